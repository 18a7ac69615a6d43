from django.apps import AppConfig


class SamplesConfig(AppConfig):
    name = "samples"
    verbose_name = "Samples, runs and projects"

    def ready(self):
        # Run pages use recipes' {% composition_tables %}; recipes sits below samples, so samples
        # tells it how to describe a run (planned vs actual) instead of recipes importing samples.
        from recipes.stoichiometry import register_composition

        from .models import ProcessRun
        from .stoichiometry import run_composition

        register_composition(ProcessRun, run_composition)

        # The recipe form's "Makes" choices are the sample kinds (recipes cannot import them).
        from recipes.output_kinds import register_output_kinds

        from .models import SampleKind

        register_output_kinds(SampleKind.choices)
