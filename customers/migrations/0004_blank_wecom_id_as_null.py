from django.db import migrations


def blanks_to_null(apps, schema_editor):
    """A blank WeCom external user id was stored as '' (the API), so a second customer without
    one collided with the first on the unique constraint: store NULL, as the services now do."""
    Customer = apps.get_model("customers", "Customer")
    Customer.objects.filter(wecom_external_userid="").update(wecom_external_userid=None)


class Migration(migrations.Migration):

    dependencies = [
        ("customers", "0003_ownershiptransfer_case"),
    ]

    operations = [
        migrations.RunPython(blanks_to_null, migrations.RunPython.noop),
    ]
