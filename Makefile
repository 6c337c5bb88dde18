.PHONY: demo test setup lint format bench
demo:
	scripts/demo
test:
	scripts/test
setup:
	scripts/setup --with-browser
lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check .
format:
	.venv/bin/ruff format . && .venv/bin/ruff check --fix .
