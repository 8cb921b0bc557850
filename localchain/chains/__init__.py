"""Chains: sequential, router, map-reduce summarisation, retrieval QA, PAL and triple extraction.

```python
from localchain.chains import RetrievalQAChain, RouterChain, SequentialChain

qa = RetrievalQAChain(model, store, score_threshold=0.3)
qa.invoke("Where is the Louvre?")  # {"answer": "... [1]", "citations": [...], ...}
```

Every chain is a langchain-core Runnable (invoke, batch, stream and their async forms). Names
load on first use through a module ``__getattr__``, so importing this package stays light and
one chain's module failing to import does not break the others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from localchain._lazy import lazy_getattr

if TYPE_CHECKING:
    from localchain.chains.graph import KnowledgeGraph
    from localchain.chains.map_reduce import MapReduceSummarizer, create_map_reduce_summarizer
    from localchain.chains.pal import PALChain, PALResult
    from localchain.chains.retrieval_qa import (
        I_DONT_KNOW,
        QA_PROMPT,
        RetrievalQAChain,
        create_retrieval_qa,
    )
    from localchain.chains.router import (
        EmbeddingRouterChain,
        ModelRouterChain,
        Route,
        RouterChain,
    )
    from localchain.chains.sequential import SequentialChain, Step
    from localchain.chains.triples import Triple, TripleExtractionChain

_LAZY = {
    "SequentialChain": "localchain.chains.sequential",
    "Step": "localchain.chains.sequential",
    "EmbeddingRouterChain": "localchain.chains.router",
    "ModelRouterChain": "localchain.chains.router",
    "Route": "localchain.chains.router",
    "RouterChain": "localchain.chains.router",
    "MapReduceSummarizer": "localchain.chains.map_reduce",
    "create_map_reduce_summarizer": "localchain.chains.map_reduce",
    "I_DONT_KNOW": "localchain.chains.retrieval_qa",
    "QA_PROMPT": "localchain.chains.retrieval_qa",
    "RetrievalQAChain": "localchain.chains.retrieval_qa",
    "create_retrieval_qa": "localchain.chains.retrieval_qa",
    "PALChain": "localchain.chains.pal",
    "PALResult": "localchain.chains.pal",
    "PALAttempt": "localchain.chains.pal",
    "Facts": "localchain.chains.triples",
    "Triples": "localchain.chains.triples",
    "Triple": "localchain.chains.triples",
    "TripleExtractionChain": "localchain.chains.triples",
    "KnowledgeGraph": "localchain.chains.graph",
}

__all__ = [
    "EmbeddingRouterChain",
    "Facts",
    "I_DONT_KNOW",
    "KnowledgeGraph",
    "MapReduceSummarizer",
    "ModelRouterChain",
    "PALAttempt",
    "PALChain",
    "PALResult",
    "QA_PROMPT",
    "RetrievalQAChain",
    "Route",
    "RouterChain",
    "SequentialChain",
    "Step",
    "Triple",
    "Triples",
    "TripleExtractionChain",
    "create_map_reduce_summarizer",
    "create_retrieval_qa",
]


__getattr__ = lazy_getattr(__name__, _LAZY)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
