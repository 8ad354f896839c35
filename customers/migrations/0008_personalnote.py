# The personal note moves here from the staff app (staff 0006), state only: its table,
# staff_personalnote, and its rows stay as they are.
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0007_sales_change_own_transactions"),
        ("staff", "0006_personalnote_moves_to_customers"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="PersonalNote",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        ("text", models.TextField(verbose_name="text")),
                        (
                            "created_at",
                            models.DateTimeField(
                                default=django.utils.timezone.now, verbose_name="created at"
                            ),
                        ),
                        (
                            "customer",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="customers.customer",
                                verbose_name="customer",
                            ),
                        ),
                        (
                            "staff",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="personal_notes",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="staff",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "personal note",
                        "verbose_name_plural": "personal notes",
                        "db_table": "staff_personalnote",
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
