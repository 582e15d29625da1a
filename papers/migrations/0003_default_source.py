from django.db import migrations

DEFAULT_CATEGORIES = ["cs.LG", "cs.CL", "cs.CV", "cs.AI", "stat.ML"]


def create_default_source(apps, schema_editor):
    HarvestSource = apps.get_model("papers", "HarvestSource")
    HarvestSource.objects.get_or_create(
        name="machine-learning", defaults={"categories": DEFAULT_CATEGORIES, "enabled": True}
    )


class Migration(migrations.Migration):
    dependencies = [("papers", "0002_postgres_search")]

    operations = [migrations.RunPython(create_default_source, migrations.RunPython.noop)]
