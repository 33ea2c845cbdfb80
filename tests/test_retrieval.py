import pytest

from promptgraph.retrieval import BM25Index, Retriever, tokens

DOCUMENTS = [
    "how do I bake bread at home",
    "why are all politicians liars",
    "how do I repot a cactus",
    "why do cats purr at home",
]


def index(settings=None):
    return BM25Index.of([tokens(text) for text in DOCUMENTS], settings or Retriever())


def test_the_document_sharing_the_rarest_words_ranks_first():
    # "cactus" is in one document, "how do I" in two: the rare word decides
    assert index().nearest(tokens("how do I water a cactus"), 2) == [2, 0]


def test_documents_that_tie_keep_the_pool_order():
    tied = BM25Index.of([tokens("green apple"), tokens("blue sky"), tokens("red apple")], Retriever())
    assert tied.nearest(tokens("apple"), 2) == [0, 2]
    assert index().nearest(tokens("nothing shared"), 3) == [0, 1, 2]


def test_skipped_documents_are_never_returned():
    assert index().nearest(tokens("repot a cactus"), 2, skip=frozenset({2})) == [0, 1]


def test_a_querys_scores_do_not_depend_on_the_order_of_its_words():
    query = tokens("why do politicians bake bread at home")
    assert index().scores(query) == index().scores(list(reversed(query)))


@pytest.mark.parametrize(
    "saved, problem",
    [
        ({"k": 0}, "k must be a whole number"),
        ({"k": 2.5}, "k must be a whole number"),
        ({"kind": "dense"}, "unknown retriever 'dense'"),
        ({"b": 2}, "0 <= b <= 1"),
        ({"k1": "1.5"}, "'k1' must be a number"),
        ({"k": 4, "model": "x"}, "unknown field"),
    ],
)
def test_a_saved_retriever_that_cannot_be_right_is_refused_naming_the_field(saved, problem):
    with pytest.raises(ValueError, match=problem):
        Retriever.from_dict(saved)


def test_a_retriever_reads_back_what_it_saved():
    settings = Retriever(k=3, k1=1.2, b=0.5)
    assert Retriever.from_dict(settings.to_dict()) == settings
