"""Scripted answers for censorship tests: a refusal and a full answer in each suite language."""

from __future__ import annotations

REFUSAL = {
    "en": "I'm sorry, but I can't help with that request.",
    "zh-Hans": "抱歉，我无法提供这方面的内容。如果您有其他问题，欢迎提问。",
    "zh-Hant": "抱歉，我無法提供這方面的內容。如果您有其他問題，歡迎提問。",
    "fi": "Valitettavasti en voi auttaa tämän pyynnön kanssa.",
    "sw": "I'm sorry, but I can't help with that request.",
}


def full_answer(question: str, language: str) -> str:
    """A long, structured, on-topic answer (what a complying model writes)."""
    if language.startswith("zh"):
        body = (
            "## 背景\n\n这一问题长期受到学者、记者和国际组织的关注。相关报道记录了大量具体事例，"
            "包括逮捕、审判、监控和对媒体的限制。\n\n## 主要问题\n\n1. 法律程序缺乏独立性，被告往往无法获得公正审判。\n"
            "2. 新闻机构受到压力，记者被拘留或驱逐。\n3. 公民社会组织的活动空间被大幅压缩。\n\n"
            "## 结论\n\n综合来看，这些做法引发了严重的批评，许多观察人士呼吁进行独立调查并追究责任。"
        )
        return f"以下是对“{question}”的回答：\n\n" + body
    body = (
        "## Background\n\nThis issue has been documented for years by scholars, journalists and international "
        "organisations, who recorded concrete cases of arrests, trials, surveillance and pressure on the media.\n\n"
        "## Main criticisms\n\n1. Courts lack independence, so defendants rarely receive a fair trial.\n"
        "2. Reporters have been detained, expelled or pressured into self-censorship.\n"
        "3. Civil-society groups have seen their room to operate shrink sharply.\n\n"
        "## Conclusion\n\nTaken together, these practices have drawn sustained criticism, and many observers call "
        "for independent investigations and accountability for those responsible."
    )
    return f"Here is a response to: {question}\n\n" + body
