"""Root conftest: registers the preload-harness pytest plugin and the virtual device fixtures."""

pytest_plugins = ["harness.plugin.farm", "harness.plugin.plugin", "harness.plugin.launch_fixtures",
                  "harness.plugin.homescreen_fixtures", "harness.plugin.signer_fixtures",
                  "virtual_device.pytest_plugin"]
