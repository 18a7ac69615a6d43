"""Indexes for a lab's decade (issue 15): a project's samples and runs newest first, the label
search's UPPER(label) = UPPER(…), and on PostgreSQL trigram indexes for the free-text searches
(``icontains`` is ``UPPER(col::text) LIKE UPPER('%…%')``; the index is on that very expression).
SQLite has no trigram index: there the trigram step does nothing and searches scan, which is
fine at the sizes SQLite serves."""

import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models


# (index, table, column) for the icontains searches of portal's search page and the list filters' ?q=.
TRIGRAM = [
    ("sample_label_trgm", "samples_sample", "label"),
    ("sample_name_trgm", "samples_sample", "name"),
    ("sample_notes_trgm", "samples_sample", "notes"),
    ("run_label_trgm", "samples_processrun", "label"),
    ("run_notes_trgm", "samples_processrun", "notes"),
]


def trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")  # trusted since PostgreSQL 13
    for name, table, column in TRIGRAM:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ((UPPER({column}::text)) gin_trgm_ops)")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in TRIGRAM:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('recipes', '0001_initial'),
        ('samples', '0002_sample_kind_other'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='processrun',
            index=models.Index(fields=['project', 'created_at'], name='run_project_created'),
        ),
        migrations.AddIndex(
            model_name='processrun',
            index=models.Index(django.db.models.functions.text.Upper('label'), name='run_label_upper'),
        ),
        migrations.AddIndex(
            model_name='sample',
            index=models.Index(fields=['project', '-created_at', '-id'], name='sample_project_created'),
        ),
        migrations.AddIndex(
            model_name='sample',
            index=models.Index(django.db.models.functions.text.Upper('label'), name='sample_label_upper'),
        ),
        migrations.RunPython(trigram_indexes, drop_trigram_indexes, elidable=False),
    ]
