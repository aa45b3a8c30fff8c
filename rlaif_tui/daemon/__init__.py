"""`rlaif daemon`: the training run served over HTTP and a websocket (aiohttp).

`errors` (JSON error bodies), `auth` (the bearer token), `store` (ratings in SQLite), `hub` (the
event stream), `runner` (the trainer on its own thread), `server` (routes), `main` (start-up,
signals, `daemon.json`). The contract is in docs/architecture.md and `openapi.yaml`.
"""
