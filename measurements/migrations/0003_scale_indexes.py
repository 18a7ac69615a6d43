"""Indexes for a lab's decade (issue 15); see samples 0003_scale_indexes."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0002_scale_indexes'),
        ('measurements', '0002_pipeline_hardening'),
        ('samples', '0003_scale_indexes'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='derivedmetric',
            index=models.Index(fields=['name', '-created_at', '-id'], name='metric_name_created'),
        ),
    ]
