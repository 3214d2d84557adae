"""Layer 4: guardrails, policy as data.

A Guardrail selects documents (kinds, environments, labels) and requires that each satisfies a JSON
Schema fragment. `severity: error` fails validation; `warning` only reports. Diagnostics point at the
matched document, at the deepest part of it that exists, and name the guardrail.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import partial

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError, ValidationError

from engine.config.documents import NO_MEMO, Document, DocumentMemo
from engine.diagnostics import Severity, pointer
from engine.validate.findings import Findings


def check_guardrails(documents: Iterable[Document], findings: Findings, memo: DocumentMemo = NO_MEMO) -> None:
    documents = list(documents)
    docs = [d for d in documents if d.kind != "Guardrail"]
    for guardrail in (d for d in documents if d.kind == "Guardrail"):
        validator = _compile(guardrail, findings)
        if validator is None:
            continue
        # a verdict depends only on the guardrail and the document: both identified by their content
        verdict = "guardrail:" + memo.key(guardrail)
        for doc in docs:
            if matches(guardrail, doc) and not memo(doc, verdict, partial(validator.is_valid, doc.source.data)):
                _violations(guardrail, doc, validator, findings)


def _compile(guardrail: Document, findings: Findings) -> Draft202012Validator | None:
    try:
        Draft202012Validator.check_schema(guardrail.spec.require)
    except SchemaError as exc:
        where = pointer("spec", "require", *exc.absolute_path)
        findings.error("MO302", f'guardrail "{guardrail.name}": require is not a valid JSON Schema: {exc.message}',
                       guardrail.source, where)
        return None
    return Draft202012Validator(guardrail.spec.require)


def matches(guardrail: Document, doc: Document) -> bool:
    """Whether a guardrail applies to a document (empty selectors match everything)."""
    match = guardrail.spec.match
    if match.kinds and doc.kind not in match.kinds:
        return False
    if match.environments:
        env = doc.environment if doc.kind == "Model" else doc.name if doc.kind == "Environment" else None
        if env not in match.environments:
            return False
    labels = doc.labels
    return all(labels.get(k) == v for k, v in match.labels.items())


def _violations(guardrail: Document, doc: Document, validator: Draft202012Validator, findings: Findings) -> None:
    severity = Severity(guardrail.spec.severity)
    for err in sorted(validator.iter_errors(doc.source.data), key=lambda e: list(map(str, e.absolute_path))):
        ptr = pointer(*err.absolute_path)
        findings.add(severity, "MO301", f'guardrail "{guardrail.name}": {guardrail.spec.message} ({_detail(err)})',
                     doc.source, ptr, at_key=err.validator == "required",
                     hint=f"guardrail defined at {guardrail.where}")


def _detail(err: ValidationError) -> str:
    if err.validator == "required":
        required: list[str] = list(err.validator_value)  # type: ignore[arg-type]
        missing = [f for f in required if isinstance(err.instance, dict) and f not in err.instance]
        where = ".".join(map(str, err.absolute_path)) or "the document"
        return f"{where} needs {', '.join(missing)}"
    return err.message
