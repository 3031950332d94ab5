"""Workflow compiler: turns workflow JSON into typed async Python modules.

The stages, in the order data flows through them::

    load -> schema -> model -> graph -> expressions -> checks -> plan -> codegen -> write

Each stage reports problems as :class:`compiler.diagnostics.Diagnostic` values and never
raises at the user; :func:`compiler.pipeline.compile_project` chains them.
"""
