"""Indexes for a lab's decade (issue 15); see samples 0003_scale_indexes."""

import django.db.models.functions.text
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('devices', '0001_initial'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='pixel',
            index=models.Index(django.db.models.functions.text.Upper('label'), name='pixel_label_upper'),
        ),
    ]
