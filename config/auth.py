"""Django's ModelBackend, reading the signed-in user with their profile.

Scoping (`config.scoping`) needs the profile (district or unit) on every page, so it comes in the user's own
query; the user's group names are read once per request by `config.scoping.group_names`, and permissions are
ModelBackend's own (cached on the user as `_perm_cache`).
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

UserModel = get_user_model()


class Backend(ModelBackend):
    def get_user(self, user_id):
        try:
            user = UserModel._default_manager.select_related("profile").get(pk=user_id)
        except UserModel.DoesNotExist:
            return None
        return user if self.user_can_authenticate(user) else None
