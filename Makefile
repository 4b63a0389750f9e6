# Everything a fresh Debian 12 machine needs is installed by these targets:
# Elixir/Erlang from Debian, LibTorch 2.11.0 from PyPI (cached outside the repository).
.PHONY: setup test demo bench lint native clean

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
