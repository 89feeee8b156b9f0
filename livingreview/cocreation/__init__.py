"""The co-creation detector: rules from the coding scheme's definitions (``rules``), the
detector that applies them or learns from maintainers' decisions (``detector``), alerts and
decisions in the store (``decisions``), the record-file interface (``files``)."""
