# Two commands: `make run` (a local hub with demo traffic and the tray app connected to it) and
# `make test` (every test). Both install what is missing first.
.PHONY: run test deps build clean

deps:
	scripts/install-deps.sh

build: deps
	npm --prefix ui run build
	cargo build --workspace --bins

run: build
	scripts/run-demo.sh

test: deps
	scripts/test.sh

clean:
	cargo clean
	rm -rf ui/dist ui/node_modules
