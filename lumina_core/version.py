"""The two version numbers a plugin can depend on.

``__version__`` is the release of the ``lumina-core`` distribution (plugins name it in
``dependencies``); ``API_VERSION`` is the version of the plugin contract (plugins name a range
of it in ``api_version``). The contract changes more slowly than the release.
"""

__version__ = "0.1.0"
API_VERSION = "1.0"
