# Two commands: `make run` (a local hub with demo traffic and the tray app connected to it) and
# `make test` (every test). Both install what is missing first.
.PHONY: run test deps build web clean

deps:
	scripts/install-deps.sh

build: deps
	npm --prefix ui run build
	npm --prefix ui run build:web
	cargo build --workspace --bins

# The web inbox herald-hub embeds (ui/dist-web); build herald-hub after it.
web:
	npm --prefix ui run build:web

run: build
	scripts/run-demo.sh

test: deps
	scripts/test.sh

clean:
	cargo clean
	rm -rf ui/dist ui/dist-web ui/node_modules
