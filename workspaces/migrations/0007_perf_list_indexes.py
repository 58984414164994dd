"""Indexes for the API-key and application-credential lists (newest first, per workspace): each page is an index
range, not a sort of every key in the workspace."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("workspaces", "0006_workspace_redirect_origins")]

    operations = [
        migrations.AddIndex(
            model_name="apikey",
            index=models.Index(fields=["workspace", "-created_at", "-id"], name="apikey_ws_created_idx"),
        ),
        migrations.AddIndex(
            model_name="applicationcredential",
            index=models.Index(fields=["workspace", "-created_at", "-id"], name="appcred_ws_created_idx"),
        ),
    ]
