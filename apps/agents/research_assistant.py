"""A research assistant over a folder of documents: search, a knowledge graph and a calculator.

Run it with ``python apps/agents/research_assistant.py "When was the Verrin Observatory
built?"``; it reads ``apps/agents/data/research/`` unless ``--docs`` names another folder
(Markdown, text, HTML or PDF files; a ``knowledge_graph.json`` there, written by
``KnowledgeGraph.save``, feeds the graph tool, or ``--extract-graph`` builds one with the model).
Each step is printed as it happens: the model's calls, the tools' results, the answer.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from localchain import ChatLocal, LocalchainError, LocalEmbeddings
from localchain.agents import create_agent
from localchain.chains import KnowledgeGraph, TripleExtractionChain
from localchain.index import FaissStore, load_documents, split_documents
from localchain.tools import calculator, knowledge_graph_tool, retriever_tool

DEFAULT_DOCS = Path(__file__).parent / "data" / "research"
DEFAULT_QUESTION = "When was the Verrin Observatory built?"


def build_graph(
    folder: Path, chat: ChatLocal, *, extract: bool, texts: list[str]
) -> KnowledgeGraph:
    """The folder's saved knowledge graph, or one extracted from the documents by the model."""
    saved = folder / "knowledge_graph.json"
    if saved.exists() and not extract:
        return KnowledgeGraph.load(saved)
    graph = KnowledgeGraph()
    extractor = TripleExtractionChain.from_model(chat)
    for text in texts:
        graph.add_triples(extractor.invoke({"text": text[:4000]}))
    return graph


def main(argv: list[str] | None = None) -> int:
    """Build the tools over the folder, then run the agent on the question, printing steps."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=DEFAULT_QUESTION)
    parser.add_argument("--docs", type=Path, default=DEFAULT_DOCS, help="folder of documents")
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--max-tokens", type=int, default=96)
    parser.add_argument("--max-steps", type=int, default=4)
    parser.add_argument(
        "--extract-graph", action="store_true", help="build the graph with the model"
    )
    args = parser.parse_args(argv)

    try:
        chat = ChatLocal(model=args.model, max_tokens=args.max_tokens)
        documents = load_documents(args.docs, errors="skip")
        store = FaissStore.from_documents(split_documents(documents), LocalEmbeddings())
        graph = build_graph(
            args.docs, chat, extract=args.extract_graph, texts=[d.page_content for d in documents]
        )
        tools = [
            retriever_tool(
                store,
                k=2,
                description="Search the research notes. Input: a short query of 2 to 5 words.",
            ),
            knowledge_graph_tool(graph),
            calculator,
        ]
        agent = create_agent(
            chat,
            tools,
            max_steps=args.max_steps,
            on_max_steps="answer",
            on_repeated_call="answer",
            # One call per reply: asked for a list, the 135M model keeps listing calls until
            # it runs out of tokens.
            parallel_tool_calls=False,
            first_tool_choice="any",  # look something up before answering
        )
        print(f"question: {args.question}", flush=True)
        entities = len(list(graph.entities()))
        print(f"documents: {len(documents)} in {args.docs}; graph: {entities} entities", flush=True)
        result = agent.invoke(args.question, on_event=lambda event: print(event, flush=True))
    except LocalchainError as err:
        print(f"error: {err}")
        return 1
    print(f"answer: {result.output}")
    calls, tokens = len(result.tool_calls), result.total_tokens
    print(f"({calls} tool calls, {tokens} tokens, {result.seconds:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
