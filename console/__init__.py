"""The reviewer's console: `yakkan serve`, a local web application over the engine.

Pages (jinja2, the renderers' environment; plain forms, one script of our own served from
the package — nothing from a CDN) and a JSON API beside them:

* `app.py`       — the Starlette application: routes, error pages, the JSON API;
* `documents.py` — the documents served (bundled ids, or the folders of `--clauses DIR`):
                   a request names a document by id only, never by path;
* `security.py`  — the guard every request passes: Host check, cross-site POSTs refused,
                   body size limits, Content-Security-Policy and the other headers;
* `forms.py`     — the case form generated from a version's vocabulary, and form fields
                   back to a case (the same validation as a case file: `prepare_data`).

Imports go down: the console uses `engine` and `renderers`; only `cli/serve.py` imports it.
"""
