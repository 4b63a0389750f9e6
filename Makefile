# Everything a fresh Debian 12 machine needs is installed by these targets:
# Elixir/Erlang from Debian, LibTorch 2.11.0 from PyPI (cached outside the repository).
.PHONY: setup test demo bench lint native clean

# LibTorch's OpenMP workers spin after each parallel region by default; with several BEAM
# threads each owning a team, the spinning steals the cores the next operation needs. libgomp
# reads this when LibTorch loads (it cannot be set from Elixir: os:putenv is not seen by C).
export OMP_WAIT_POLICY ?= passive

setup:
	@bash scripts/ensure_elixir.sh
	@bash scripts/ensure_libtorch.sh >/dev/null

native: setup
	@mix compile

test: setup
	@bash scripts/test.sh

demo: setup
	@mix run examples/demo.exs

bench: setup
	@bash bench/run.sh

lint: setup
	@bash scripts/lint.sh

clean:
	rm -rf _build priv/*.so
