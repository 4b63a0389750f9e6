#!/usr/bin/env bash
# Installs Elixir and Erlang from Debian's packages when they are missing.
set -euo pipefail
if command -v elixir >/dev/null 2>&1 && command -v erlc >/dev/null 2>&1 \
   && [ -f "$(dirname "$(readlink -f "$(command -v erl)")")/../usr/include/erl_nif.h" ] 2>/dev/null; then
  exit 0
fi
if command -v elixir >/dev/null 2>&1 && dpkg -s erlang-dev >/dev/null 2>&1; then
  exit 0
fi
echo "==> installing Elixir and Erlang from Debian's packages"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq elixir erlang-dev erlang-xmerl erlang-parsetools erlang-tools >/dev/null
elixir --version | tail -1
