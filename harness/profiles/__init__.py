"""Device profiles: the YAML contract of which partner apps a device model must carry, validated and resolved.

Public API::

    from harness.profiles import load_profiles
    profiles = load_profiles()                      # device_profiles/ of the repository
    [profile] = profiles.match(getprop_mapping)     # 0 or >1 matches: the caller reports an error
    for req in profile.requirements("IN"):          # one AppRequirement per app for that region
        req.package, req.presence, req.version.describe() if req.version else "any version"

Errors: :func:`load_profiles` raises :class:`harness.errors.ProfileErrors` listing every problem of every
file (``file:line: key: message (hint)``). Command line: ``python -m harness.profiles check [PATHS]`` and
``python -m harness.profiles show PROFILE_ID [--region XX]``. The schema is documented for QA engineers in
``device_profiles/README.md``.
"""

from harness.profiles.loader import DEFAULT_PROFILES_DIR, ProfileSet, load_profiles
from harness.profiles.models import (
    AppRequirement,
    AppSetFile,
    AppSpec,
    DeviceProfile,
    FirstScreen,
    LaunchSpec,
    MatchSpec,
    Placement,
    ProfileFile,
    VersionSpec,
)

__all__ = [
    "DEFAULT_PROFILES_DIR",
    "AppRequirement",
    "AppSetFile",
    "AppSpec",
    "DeviceProfile",
    "FirstScreen",
    "LaunchSpec",
    "MatchSpec",
    "Placement",
    "ProfileFile",
    "ProfileSet",
    "VersionSpec",
    "load_profiles",
]
