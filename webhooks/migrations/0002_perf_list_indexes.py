"""Indexes for the webhook endpoint list (newest first, per workspace) and the delivery log's attempts (newest
first, per message)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("webhooks", "0001_initial")]

    operations = [
        migrations.AddIndex(
            model_name="webhookendpoint",
            index=models.Index(fields=["workspace", "-created_at"], name="webhook_ws_created_idx"),
        ),
        migrations.AddIndex(
            model_name="webhookattempt",
            index=models.Index(fields=["message", "-attempted_at", "-id"], name="webhook_attempt_msg_idx"),
        ),
    ]
