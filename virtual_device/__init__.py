"""Virtual Android devices that speak the device side of the ADB protocol, so the real adb server accepts them.

Layers (shared/DESIGN.md): transport (packets, streams) · services (shell, exec, sync, tcp) · shell/ (interpreter)
· render/ (per-SDK output formats) · image (YAML model) · state · fs · server (many devices, one loop) · farm
· testing (private adb server + farm) · pytest_plugin · ``python -m virtual_device``.
The harness never imports this package.
"""
