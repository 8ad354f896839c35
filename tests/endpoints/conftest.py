from tests.endpoints.world import base_world, masking_world, world  # noqa: F401 (fixtures)
