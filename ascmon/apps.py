from django.apps import AppConfig


class AscmonConfig(AppConfig):
    name = "ascmon"
    verbose_name = "ascmon"

    def ready(self):
        from ascmon import admin_site  # noqa: F401  (restricts the admin site to the admin role)
