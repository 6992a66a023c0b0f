"""The pytest plugin of preload-harness (registered by the root ``conftest.py``).

* :mod:`harness.plugin.plugin`: options, parametrization per device and per (device, app), Allure
  labels, result records, the release gate.
* :mod:`harness.plugin.session`: device discovery and profile matching (no pytest imports).
* :mod:`harness.plugin.outcome`: verdict → assertion / skip, exception → failed / broken.
* :mod:`harness.plugin.launch_fixtures`: uiautomator2 drivers and the launch fixture.
"""
