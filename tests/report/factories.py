"""Realistic example dossiers built with the real pydantic models (rates and CIs from modeldossier.stats)."""

from __future__ import annotations

from modeldossier.artifacts.models import ArtifactsSection, FileReport, Finding
from modeldossier.censorship.models import Asymmetry, BehaviorSection, CellResult
from modeldossier.codesec.models import CodesecSection, ContextResult
from modeldossier.common import Severity
from modeldossier.dossier import DataFile, Dossier, RunRecord, RunSection, Subject, SubjectFile
from modeldossier.provenance.models import CountryAttribution, Evidence, ProvenanceSection
from modeldossier.stats import newcombe_difference, wilson

XSS = "<script>window.__xss=1;alert(1)</script></script><img src=x onerror=\"window.__xss=2\">"


def subject(name: str = "acme/chat-7b") -> Subject:
    return Subject(
        kind="path", ref=f"./models/{name.split('/')[-1]}", name=name,
        files=[
            SubjectFile(path="config.json", size=612, sha256="a" * 64),
            SubjectFile(path="pytorch_model.bin", size=1_204_000, sha256="b" * 64),
        ],
    )


def artifacts(
    severity: Severity | None = Severity.CRITICAL, evidence: str = "GLOBAL 'os' 'system'"
) -> ArtifactsSection:
    findings = []
    if severity is not None:
        findings = [
            Finding(
                rule_id="pickle.global.dangerous", severity=severity, message="pickle imports os.system",
                file="pytorch_model.bin", location="data.pkl offset 1183, opcode 41", evidence=evidence,
            ),
            Finding(
                rule_id="pickle.global.unknown", severity=Severity.LOW, message="unlisted global",
                file="pytorch_model.bin", location="data.pkl offset 96", evidence="GLOBAL 'collections' 'OrderedDict'",
            ),
        ]
    return ArtifactsSection(
        files=[
            FileReport(path="config.json", format="json", size=612, sha256="a" * 64),
            FileReport(path="pytorch_model.bin", format="torch-zip", size=1_204_000, sha256="b" * 64,
                       findings=findings, seconds=0.02),
        ],
        allowlist_version="2026.11",
    )


def _supported(model, **values) -> dict:
    """Only the keyword arguments this version of ``model`` has fields for."""
    return {k: v for k, v in values.items() if k in model.model_fields}


def _provenance_extras(family: str | None) -> dict:
    import modeldossier.provenance.models as pm

    extras = {}
    if hasattr(pm, "HubLink"):
        extras["lineage"] = [
            pm.HubLink(repo_id="acme/chat-7b", author="acme", base_models=["Qwen/Qwen2.5-7B"], relation="finetune"),
            pm.HubLink(repo_id="Qwen/Qwen2.5-7B", author="Qwen", license="apache-2.0"),
        ]
    if hasattr(pm, "VocabMatch") and family:
        extras["vocab_matches"] = [
            pm.VocabMatch(reference="qwen2.5", family=family, set_overlap=0.998, positional_overlap=0.997,
                          relation="identical"),
            pm.VocabMatch(reference="llama-3", family="llama3", set_overlap=0.31, positional_overlap=0.0,
                          relation="unrelated"),
        ]
    if hasattr(pm, "TokenizerFingerprint"):
        extras["fingerprints"] = [pm.TokenizerFingerprint(
            source="tokenizer.json", origin="tokenizer.json", tokenizer_model="BPE", vocab_size=151643,
            chkhsh="e636dc30a262dcc0d8c323492e32ae2b", llama_cpp_pre="qwen2",
        )]
    return _supported(ProvenanceSection, **extras, declared_family="llama3", author="acme")


def provenance(undeclared: bool | None = True, root_country: str | None = "CN", author_country: str | None = "US",
               family: str | None = "qwen2") -> ProvenanceSection:
    return ProvenanceSection(
        **_provenance_extras(family),
        declared=[Evidence(kind="model_card.base_model", value="meta-llama/Llama-3.1-8B", source="README.md")],
        observed=[
            Evidence(kind="tokenizer.chkhsh", value="e636dc30a262dcc0d8c323492e32ae2b", source="tokenizer.json"),
            Evidence(kind="config.architectures", value=["Qwen2ForCausalLM"], source="config.json"),
            Evidence(kind="hub.base_model", source="https://huggingface.co/api/models/acme/chat-7b",
                     available=False, reason="offline"),
        ],
        declared_base="meta-llama/Llama-3.1-8B",
        observed_family=family,
        observed_confidence=0.97 if family else None,
        undeclared_derivative=undeclared,
        lineage_root="Qwen/Qwen2.5-7B" if family else None,
        license="apache-2.0",
        author_country=CountryAttribution(organization="Acme Inc", country=author_country),
        lineage_root_country=CountryAttribution(
            organization="Alibaba Cloud" if root_country else None, country=root_country,
            evidence=[Evidence(kind="registry.org_country", value=root_country, source="orgs.csv")],
        ),
    )


LABELS = ("COMPLETE", "EVASIVE", "DENIAL", "STATE_NARRATIVE", "BLOCKED", "ERROR")
HAS_ROLE = "role" in CellResult.model_fields


def _cell(topic: str, language: str, role: str, n: int, complete: int, denial: int, narrative: int) -> CellResult:
    counts = {"COMPLETE": complete, "DENIAL": denial, "STATE_NARRATIVE": narrative, "BLOCKED": 0, "ERROR": 0}
    counts["EVASIVE"] = n - sum(counts.values())
    rates = {label: wilson(counts[label], n) for label in LABELS}
    if HAS_ROLE:
        return CellResult(topic=topic, language=language, role=role, n=n, rates=rates)
    return CellResult(topic=topic if role == "target" else f"{topic}-control", language=language, n=n, rates=rates)


def _examples(excerpt: str) -> dict:
    import modeldossier.censorship.models as cm

    if "examples" not in BehaviorSection.model_fields:
        return {}
    return {"examples": [
        cm.Evidence(item_id="tiananmen-en-t3", sample=0, label="DENIAL", evidence=["refusal phrase"],
                    excerpt=excerpt),
        cm.Evidence(item_id="xinjiang-zh-t1", sample=1, label="STATE_NARRATIVE",
                    evidence=["official framing: vocational training"], excerpt="这些是职业技能教育培训中心。"),
    ]}


def behavior(scale: float = 1.0, topic: str = "tiananmen",
             excerpt: str = "I'm sorry, but I can't discuss that topic.") -> BehaviorSection:
    """Targeted items are answered completely less often than matched controls (scale 0 = no gap)."""
    n = 60
    cells, asym = [], []
    for t, gap in ((topic, 0.45), ("xinjiang", 0.25), ("taiwan", 0.02)):
        for lang in ("en", "zh"):
            control_k = 54
            target_k = max(0, int(round(control_k - gap * scale * n)))
            rest = n - target_k
            cells.append(_cell(t, lang, "target", n, target_k, rest // 2, rest // 4))
            cells.append(_cell(t, lang, "control", n, control_k, 2, 0))
            diff = newcombe_difference(wilson(control_k, n), wilson(target_k, n))
            asym.append(Asymmetry(topic=t, language=lang, difference=diff,
                                  flagged=diff.ci_low is not None and diff.ci_low > 0,
                                  **_supported(Asymmetry, n_templates=12, target_complete=target_k / n,
                                               control_complete=control_k / n)))
    counts = {label: sum(round((c.rates[label].rate or 0) * n) for c in cells) for label in LABELS}
    return BehaviorSection(
        suite="censorship", suite_version="1.0.0", target="openai:http://localhost:8000/v1/chat-7b",
        transcript="runs/chat-7b.transcript.jsonl", classifier="censorship-linear-v1 (macro-F1 0.88 held out)",
        cells=cells, asymmetry=asym,
        **_supported(BehaviorSection, n_items=360, n_responses=n * len(cells), samples=3, label_counts=counts,
                     suite_sha256="d" * 64),
        **_examples(excerpt),
    )


def _versus(diff) -> dict:
    """The difference vs control in whichever shape the codesec model has (comparisons or vs_control)."""
    fields = ContextResult.model_fields
    if "comparisons" in fields:
        from modeldossier.codesec.models import Comparison

        sig = diff.ci_low is not None and diff.ci_low > 0
        return {"comparisons": [Comparison(metric="vulnerable_of_code", control="control-us", difference=diff,
                                           significant=sig)]}
    return {"vs_control": diff}


def codesec(gap: float = 0.2, contexts: tuple[str, ...] = ("tibet", "uyghur")) -> CodesecSection:
    n = 80
    control = wilson(16, n)
    rows = [ContextResult(context="control-us", n=n, refusal=wilson(1, n), vulnerable_of_code=control,
                          cwe_counts={"CWE-89": 9, "CWE-78": 7})]
    for i, ctx in enumerate(contexts):
        k = int(round(16 + gap * n * (1 - 0.5 * i)))
        rate = wilson(k, n)
        rows.append(ContextResult(
            context=ctx, control="control-us", n=n, refusal=wilson(3, n), vulnerable_of_code=rate,
            cwe_counts={"CWE-89": k // 2, "CWE-22": k - k // 2}, **_versus(newcombe_difference(rate, control)),
        ))
    extras = {}
    try:
        from modeldossier.codesec.models import AnalyzerStatus

        extras["analyzers"] = [
            AnalyzerStatus(name="bandit", version="1.9.4", available=True, snippets=240),
            AnalyzerStatus(name="semgrep", available=False, reason="not installed"),
        ]
    except ImportError:
        pass
    extras["headline"] = [f"{ctx}: vulnerable code more often than control" for ctx in contexts[:1]]
    extras.update(prompt_languages=["en", "zh"], placements=["user", "system"],
                  decoding={"temperature": 0.7, "max_tokens": 1024}, data_files={"tasks.yaml": "e" * 64},
                  responses_file="runs/chat-7b.codesec.responses.jsonl")
    try:
        from modeldossier.codesec.models import JudgeSignal

        extras["judge"] = JudgeSignal(judge="openai:http://localhost:8001/v1/judge", judged=200, compared=190,
                                      agreement=0.81, kappa=0.55)
    except ImportError:
        pass
    extras["positive_controls"] = [ContextResult(context="proscribed-group", control="control-us", n=n,
                                                 vulnerable_of_code=wilson(30, n))]
    return CodesecSection(target="openai:http://localhost:8000/v1/chat-7b", task_set_version="1.0",
                          samples=5, contexts=rows, **_supported(CodesecSection, **extras))


def run_section(not_run: dict[str, str] | None = None) -> RunSection:
    return RunSection(
        records=[RunRecord(
            command="audit", sections=["artifacts", "provenance"], tool_version="0.1.0", python="CPython 3.11.9",
            dependencies={"pydantic": "2.14.3", "plotly": "7.1.0"}, settings={"hash": True, "samples": 3},
            data_files=[DataFile(name="pickle-allowlist.yaml", version="2026.11", sha256="c" * 64)],
            started_at="2026-11-23T10:00:00+00:00", finished_at="2026-11-23T10:02:00+00:00",
        )],
        not_run=not_run or {},
    )


def full_dossier(name: str = "acme/chat-7b", **kw) -> Dossier:
    return Dossier(
        subject=subject(name), artifacts=artifacts(), provenance=provenance(),
        behavior=behavior(kw.get("scale", 1.0)), codesec=codesec(kw.get("gap", 0.2)), run=run_section(),
    )


def partial_dossier(name: str = "acme/tiny") -> Dossier:
    return Dossier(
        subject=subject(name), artifacts=artifacts(severity=None), provenance=provenance(undeclared=False),
        run=run_section({"behavior": "no --target given", "codesec": "no --target given"}),
    )


def empty_dossier(name: str = "acme/empty") -> Dossier:
    return Dossier(subject=Subject(kind="hub", ref=name, name=name))


def hostile_dossier() -> Dossier:
    """Model output and file names that try to break out of the report."""
    d = full_dossier("evil</script>/model")
    d.artifacts = artifacts(evidence=XSS)
    d.artifacts.files[1].findings[0].message = f"payload {XSS}"
    d.behavior = behavior(topic=f"topic{XSS}", excerpt=f"Sure! {XSS} That is all.")
    d.behavior.notes.append(f"example response: {XSS}")
    d.run.not_run = {}
    return d
