"""Rights: copyright notices and holders, SPDX licences, the protected-works registry, and the
audit's ScoreRights step beside them."""

from haetae.lazy import lazy_exports

__all__, __getattr__, __dir__ = lazy_exports(__name__, {
    "ScoreRights": "score",
    "RightsScanner": "score",
    "find_copyright": "copyright",
    "detect_licences": "licences",
    "default_index": "licences",
    "LicenceLists": "spdx",
    "Registry": "registry",
    "build_registry": "registry",
    "RegistrySettings": "registry_settings",
})
