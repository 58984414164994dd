import json

from django.db import migrations, models


def copy_manifest(apps, schema_editor):
    # Rows keep a usable manifest until post_migrate's catalog sync rewrites them from the files, in file order.
    ConnectorDefinition = apps.get_model("connectors", "ConnectorDefinition")
    for definition in ConnectorDefinition.objects.all():
        definition.manifest_json = json.dumps(definition.manifest)
        definition.save(update_fields=["manifest_json"])


class Migration(migrations.Migration):
    dependencies = [("connectors", "0004_execution_error_fields")]

    operations = [
        migrations.AddField(
            model_name="connectordefinition", name="manifest_json", field=models.TextField(default="{}"),
            preserve_default=False,
        ),
        migrations.RunPython(copy_manifest, migrations.RunPython.noop),
        migrations.RemoveField(model_name="connectordefinition", name="manifest"),
    ]
