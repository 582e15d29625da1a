"""The publication version moves into the database; stored page bodies are checked against it.

Bodies stored under the old stamps get an empty version, which no request
asks for: each is rendered again by its next reader.
"""

import secrets

from django.db import migrations, models


def first_version(apps, schema_editor):
    apps.get_model("issues", "PublicationVersion").objects.create(pk=1, token=secrets.token_hex(8))


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0008_shorter_citations"),
    ]

    operations = [
        migrations.CreateModel(
            name="PublicationVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("token", models.CharField(max_length=32)),
            ],
        ),
        migrations.RemoveField(
            model_name="issuepage",
            name="stamp",
        ),
        migrations.AddField(
            model_name="issuepage",
            name="nav_html",
            field=models.TextField(blank=True),
        ),
        migrations.AddField(
            model_name="issuepage",
            name="version",
            field=models.CharField(
                default="",
                help_text="The publication version (and template code) it was rendered for.",
                max_length=80,
            ),
            preserve_default=False,
        ),
        migrations.RunPython(first_version, migrations.RunPython.noop),
    ]
