import json

import pytest

from promptgraph.data import DataError, Example, load_examples, require_labels, stratified_sample, stratified_split


def write_csv(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_csv_is_read_with_renamed_inputs_mapped_labels_and_ids(tmp_path):
    path = write_csv(tmp_path / "q.csv", "qid,question_text,target\na1,Why?,1\na2,How?,0\n")
    examples = load_examples(
        path, inputs={"question_text": "text"}, label="target", id="qid", label_map={"0": "sincere", "1": "insincere"}
    )
    assert examples == [Example({"text": "Why?"}, "insincere", id="a1"), Example({"text": "How?"}, "sincere", id="a2")]


def test_jsonl_is_read_with_notes(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_text(
        json.dumps({"text": "a", "label": "x", "why": "because"})
        + "\n\n"
        + json.dumps({"text": "b", "label": "y", "why": ""})
        + "\n"
    )
    examples = load_examples(path, note="why")
    assert [(e.note, e.id) for e in examples] == [("because", "1"), (None, "2")]


def test_a_missing_column_names_the_columns_there_are(tmp_path):
    path = write_csv(tmp_path / "q.csv", "qid,question_text,target\na,b,0\n")
    with pytest.raises(DataError, match=r"no column 'text'; its columns are qid, question_text, target"):
        load_examples(path, label="target")


def test_an_empty_file_is_refused(tmp_path):
    with pytest.raises(DataError, match="no rows"):
        load_examples(write_csv(tmp_path / "q.csv", "text,label\n"))


def test_a_broken_row_is_refused_with_its_line_number(tmp_path):
    with pytest.raises(DataError, match="line 3"):
        load_examples(write_csv(tmp_path / "q.csv", "text,label\na,x\nb,y,extra\n"))


def test_a_label_outside_the_map_is_refused(tmp_path):
    with pytest.raises(DataError, match=r"line 2: label '2' is not one of the labels given"):
        load_examples(write_csv(tmp_path / "q.csv", "text,label\na,2\n"), label_map={"0": "no", "1": "yes"})


@pytest.mark.parametrize(
    ("content", "refusal"),
    [
        ("text,label\na,x\nb\n", "line 3 has 1 field, but the header names 2"),
        ("text,label,text\na,x,b\n", "the header names column 'text' twice"),
        ("text,label\na,x\n,y\n", "line 3: 'text' is empty"),
        ("text,label\na,x\nb,NaN\n", "line 3 has no label: 'label' is 'NaN'"),
        ("text,label\na,x\nb, \n", "line 3 has no label: 'label' is empty"),
    ],
    ids=["short row", "repeated column", "empty text", "NaN label", "blank label"],
)
def test_a_bad_csv_row_is_refused_naming_its_line_and_column(tmp_path, content, refusal):
    with pytest.raises(DataError, match=refusal):
        load_examples(write_csv(tmp_path / "q.csv", content))


@pytest.mark.parametrize(
    ("row", "refusal"),
    [
        ({"text": None, "label": "x"}, "line 2: 'text' is null"),
        ({"text": ["a"], "label": "x"}, "line 2: 'text' is not text but a JSON list"),
        ({"text": "a", "label": None}, "line 2 has no label: 'label' is null"),
    ],
    ids=["null text", "list as text", "null label"],
)
def test_a_jsonl_value_that_is_not_text_is_refused_not_sent_as_none(tmp_path, row, refusal):
    path = tmp_path / "q.jsonl"
    path.write_text(json.dumps({"text": "a", "label": "x"}) + "\n" + json.dumps(row) + "\n")
    with pytest.raises(DataError, match=refusal):
        load_examples(path)


def test_a_repeated_id_is_refused_naming_both_lines(tmp_path):
    path = write_csv(tmp_path / "q.csv", "id,text,label\nr1,a,x\nr2,b,y\nr1,c,x\n")
    with pytest.raises(DataError, match="line 4 repeats the 'id' 'r1' of line 2"):
        load_examples(path, id="id")


def test_a_byte_that_is_not_utf8_is_named_with_its_line_and_offset(tmp_path):
    path = tmp_path / "q.csv"
    path.write_bytes(b"text,label\ncaf\xe9,x\n")
    with pytest.raises(DataError, match=r"line 2 is not UTF-8 \(byte 0xe9 at offset 14\)"):
        load_examples(path)


def test_a_byte_order_mark_is_not_part_of_the_first_column(tmp_path):
    path = tmp_path / "q.jsonl"
    path.write_bytes(b"\xef\xbb\xbf" + json.dumps({"text": "a", "label": "x"}).encode() + b"\n")
    assert load_examples(path) == [Example({"text": "a"}, "x", id="1")]


def test_a_cell_past_the_csv_modules_default_limit_is_read_whole(tmp_path):
    path = write_csv(tmp_path / "q.csv", "text,label\n" + "x" * 1_000_000 + ",y\n")
    assert len(load_examples(path)[0].inputs["text"]) == 1_000_000


def test_a_label_mapped_on_purpose_may_be_blank(tmp_path):
    path = write_csv(tmp_path / "q.csv", "text,label\na,1\nb,\n")
    assert [e.label for e in load_examples(path, label_map={"1": "yes", "": "unknown"})] == ["yes", "unknown"]


def test_a_directory_is_refused_as_data(tmp_path):
    with pytest.raises(DataError, match="is a directory"):
        load_examples(tmp_path)


def test_a_single_label_cannot_train_a_classifier():
    with pytest.raises(DataError, match="single label"):
        require_labels([Example({"text": "a"}, "x"), Example({"text": "b"}, "x")])


def test_a_single_label_error_names_the_file_and_the_labels_given_that_have_no_row():
    with pytest.raises(DataError, match=r"^one.csv has a single label \('x'\), no row labelled 'y', 'z';"):
        require_labels([Example({"text": "a"}, "x")], source="one.csv", expected=["x", "y", "z"])


def test_valset_labels_must_appear_in_the_trainset():
    train = [Example({"text": "a"}, "x"), Example({"text": "b"}, "y")]
    with pytest.raises(DataError, match="lacks: z"):
        require_labels(train, [Example({"text": "c"}, "z")])


def examples(per_label=30):
    return [
        Example({"text": f"{label}{i}"}, label, id=f"{label}{i}") for label in ("a", "b", "c") for i in range(per_label)
    ][::-1]


def test_a_stratified_sample_takes_up_to_n_per_label():
    sample = stratified_sample(examples(30)[:65], 10, seed=0)  # label "a" has only 5 left
    counts = {label: sum(e.label == label for e in sample) for label in "abc"}
    assert counts == {"a": 5, "b": 10, "c": 10}


def test_the_same_seed_gives_the_same_sample_and_another_seed_another():
    assert stratified_sample(examples(), 5, seed=1) == stratified_sample(examples(), 5, seed=1)
    assert stratified_sample(examples(), 5, seed=1) != stratified_sample(examples(), 5, seed=2)


def test_a_split_holds_out_per_label_and_the_parts_do_not_overlap():
    rest, held = stratified_split(examples(30), 4, seed=0)
    assert sorted(e.label for e in held) == ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    assert not {e.id for e in rest} & {e.id for e in held}
    assert len(rest) + len(held) == 90


def test_a_split_never_takes_more_than_half_of_a_small_label():
    small = [Example({"text": str(i)}, "rare") for i in range(3)] + [
        Example({"text": str(i)}, "common") for i in range(50)
    ]
    _, held = stratified_split(small, 10, seed=0)
    assert sum(e.label == "rare" for e in held) == 1


def canonical_set():
    examples = [Example({"text": f"t{i}"}, "ab"[i % 2], id=str(i)) for i in range(40)]
    return [Example(e.inputs, e.label, id=e.id, always=e.id in ("3", "4")) for e in examples]


def test_canonical_examples_are_in_every_minibatch():
    for seed in range(5):
        sample = stratified_sample(canonical_set(), 2, seed=seed)
        assert {"3", "4"} <= {e.id for e in sample} and len(sample) == 6


def test_canonical_examples_are_never_held_out_for_validation():
    for seed in range(5):
        _, held_out = stratified_split(canonical_set(), 10, seed=seed)
        assert not {"3", "4"} & {e.id for e in held_out}


def test_a_column_flags_canonical_examples_and_a_bad_flag_names_its_line(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text("text,label,canon\na,x,1\nb,y,\nc,x,maybe\n")
    with pytest.raises(DataError, match="line 4.*'canon' is 'maybe'"):
        load_examples(path, always="canon")
    path.write_text("text,label,canon\na,x,yes\nb,y,\n")
    assert [e.always for e in load_examples(path, always="canon")] == [True, False]


def test_an_example_repr_shows_id_label_and_short_inputs():
    example = Example({"text": "How do I bake bread?"}, "sincere", id="q0")
    assert repr(example) == "Example(id='q0', label='sincere', inputs={'text': 'How do I bake bread?'})"


def test_an_example_repr_cuts_a_long_input_and_shows_a_note_only_when_there_is_one():
    example = Example({"text": "w" * 5000}, "insincere", note="n" * 5000, always=True)
    assert repr(example) == (
        f"Example(label='insincere', inputs={{'text': '{'w' * 40}…'}}, note='{'n' * 20}…', always=True)"
    )


def test_an_example_repr_shows_two_inputs_and_counts_the_rest():
    example = Example({f"field{index}": "x" for index in range(12)}, "a")
    assert repr(example) == "Example(label='a', inputs={'field0': 'x', 'field1': 'x', … 10 more})"


# -- examples given in Python, checked as a file's rows are -----------------------------------------------


def test_checked_examples_keep_good_examples_as_they_are():
    from promptgraph.data import checked_examples

    examples = [Example({"text": "a"}, "x", id="1"), Example({"text": "b"}, "y", id="2")]
    checked = checked_examples(examples, name="trainset", inputs=("text",))
    assert all(mine is theirs for mine, theirs in zip(checked, examples, strict=True))


def test_checked_examples_read_int_labels_and_ids_as_text():
    from promptgraph.data import checked_examples

    (checked,) = checked_examples([Example({"text": "a"}, 0, id=5)], name="trainset")
    assert (checked.label, checked.id) == ("0", "5")


def test_checked_examples_refuse_a_bool_label():
    from promptgraph.data import checked_examples

    with pytest.raises(DataError, match=r"trainset\[0\]: label True is a bool; labels are text"):
        checked_examples([Example({"text": "a"}, True)], name="trainset")


def test_checked_examples_refuse_a_blank_label():
    from promptgraph.data import checked_examples

    with pytest.raises(DataError, match=r"valset\[1\] \(id 'b'\): the label is empty"):
        checked_examples([Example({"text": "a"}, "x"), Example({"text": "a"}, " ", id="b")], name="valset")


def test_checked_examples_allow_repeated_missing_ids_unless_ids_are_needed():
    from promptgraph.data import checked_examples

    examples = [Example({"text": "a"}, "x"), Example({"text": "b"}, "y")]
    assert len(checked_examples(examples, name="trainset")) == 2
    with pytest.raises(DataError, match=r"trainset\[0\] has no id"):
        checked_examples(examples, name="trainset", ids=True)
