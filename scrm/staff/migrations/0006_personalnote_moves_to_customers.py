# The personal note points at a customer, so it belongs to the customers app (the platform
# points at no domain model). State only: the table keeps its name (customers 0008).
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("staff", "0005_blank_wecom_userid_as_null"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="PersonalNote")],
            database_operations=[],
        ),
    ]
