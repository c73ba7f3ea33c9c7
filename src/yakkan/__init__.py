"""yakkan: a rules-as-code engine for Japanese terms of service and tariffs (約款・利用規約).

Pipeline (one direction): parse → lower → resolve → graph → check → evaluate → render.
See `yakkan.engine.pipeline`.
"""

__version__ = "0.1.0"
