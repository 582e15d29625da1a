# Schedules beyond the horizon that schedule_issue now enforces go back to draft.
#
# Before the horizon an issue could be scheduled for year 9999; every admin
# page showing that time then failed for a time zone east of UTC (past the
# calendar's end). Such a schedule would never publish anyway: the issue
# becomes a draft again with the reason in publish_error, for the editor to
# schedule it again.

from datetime import UTC, datetime, timedelta

from django.db import migrations

# issues/publishing.py::SCHEDULE_HORIZON_YEARS (5) as of this migration, not imported:
# a migration must keep doing what it did when it was written.
HORIZON = timedelta(days=365 * 5 + 1)


def unschedule_far_future(apps, schema_editor):
    Issue = apps.get_model("issues", "Issue")
    horizon = datetime.now(UTC) + HORIZON
    for issue in Issue.objects.filter(status="scheduled", publish_at__gt=horizon):
        issue.publish_error = (
            f"It was scheduled for {issue.publish_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC, more than 5 years "
            "ahead, which is no longer accepted: it is a draft again. Schedule it for a sensible time."
        )
        issue.status = "draft"
        issue.publish_at = None
        issue.save(update_fields=["status", "publish_at", "publish_error"])


class Migration(migrations.Migration):
    dependencies = [
        ("issues", "0010_preview_revocation"),
    ]

    operations = [
        migrations.RunPython(unschedule_far_future, migrations.RunPython.noop),
    ]
