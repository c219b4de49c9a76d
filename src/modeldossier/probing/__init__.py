"""The probe engine: ask a model many questions reliably, with a transcript, a cache and resume."""
