"""Rewards score real inputs, and a completion they cannot score is None and counted by kind, never 0.

The code-execution tests run real programs in the real subprocess sandbox: an infinite loop, a memory bomb, a
huge file, an environment secret, a connection to a port this test listens on.
"""

from __future__ import annotations

import json
import math
import re
import socket
import tempfile
import time
from pathlib import Path

import pytest

from haetae.alignment.rewards import (
    CodeExecutionReward,
    ConstraintReward,
    ExecutionLimits,
    MathAnswerReward,
    SubprocessSandbox,
    extract_code,
    parse_constraints,
    safety_reward,
)
from haetae.errors import JobFailed, UsageError


def score_one(reward, completion, **row):
    """The reward of one plain-text completion for one dataset row."""
    return reward(["prompt"], [completion], **{column: [value] for column, value in row.items()})[0]


# ---------------------------------------------------------------------------------------------------- math


@pytest.mark.parametrize("completion, answer, expected", [
    (r"The answer is $\boxed{1/2}$.", "0.5", 1.0),
    ("0.5", r"\boxed{1/2}", 1.0),
    (r"so $x = \frac{3}{4}$", "0.75", 1.0),
    ("Adding them gives 42.", "42", 1.0),
    ("1,000", "1000", 1.0),
    (r"\boxed{\frac{2}{4}}", "1/2", 1.0),
    ("The answer is 41.", "42", 0.0),
    (r"\boxed{0.49}", "1/2", 0.0),
    ("I do not know.", "3", 0.0),
    ("42", "not a number", None),
    ("42", "", None),
    ("42", None, None),
])
def test_math_answer(completion, answer, expected):
    assert score_one(MathAnswerReward(), completion, answer=answer) == expected


def test_math_counts_unscored_by_kind_and_logs_the_fraction():
    reward = MathAnswerReward(wrong=-1.0)
    logged: list[tuple[str, float]] = []
    rewards = reward(["q"] * 4, ["2", "3", "2", "2"], answer=["2", "2", "two", None],
                     log_metric=lambda name, value: logged.append((name, value)))
    assert rewards == [1.0, -1.0, None, None]
    assert reward.stats.as_dict() == {"reward": "math_answer", "scored": 2, "total": 4, "batches": 1,
                                      "unscored": {"gold_missing": 1, "gold_unparsable": 1}, "fallbacks": {}}
    assert dict(logged) == {"rewards/math_answer/unscored_frac": 0.5,
                            "rewards/math_answer/unscored/gold_missing": 1.0,
                            "rewards/math_answer/unscored/gold_unparsable": 1.0}


def test_math_verifier_timeout_is_unscored_or_the_configured_fallback():
    endless = r"The answer is $\boxed{10^{10^{10}}!}$"  # sympy cannot finish comparing this with 3 in a second
    reward = MathAnswerReward(timeout_s=1)
    assert score_one(reward, endless, answer="3") is None
    assert reward.stats.unscored == {"timeout": 1}
    penalised = MathAnswerReward(timeout_s=1, answer_timeout_reward=-1.0)
    assert score_one(penalised, endless, answer="3") == -1.0
    assert penalised.stats.unscored == {} and penalised.stats.fallbacks == {"timeout": 1}


def test_math_reads_chat_completions():
    prompts = [[{"role": "user", "content": "1/2 as a decimal?"}]] * 2
    completions = [[{"role": "assistant", "content": r"It is \boxed{0.5}."}],
                   [{"role": "assistant", "content": r"It is \boxed{0.2}."}]]
    assert MathAnswerReward()(prompts, completions, answer=["1/2", "1/2"]) == [1.0, 0.0]
    blocks = [[{"role": "assistant", "content": [{"type": "text", "text": r"\boxed{0.5}"}]}],
              [{"role": "assistant", "content": None, "tool_calls": [{"name": "calculator"}]}]]
    assert MathAnswerReward()(prompts, blocks, answer=["1/2", "1/2"]) == [1.0, 0.0]


def test_missing_column_is_one_usage_error_naming_the_columns():
    with pytest.raises(UsageError, match=r"no column answer \(columns: solution\)"):
        MathAnswerReward()(["q"], ["1"], solution=["1"], trainer_state=None)


def test_max_unscored_fraction_stops_a_run_whose_reward_stopped_working():
    reward = MathAnswerReward(max_unscored_fraction=0.5)
    reward(["q"] * 2, ["1", "1"], answer=["1", "?"])
    with pytest.raises(JobFailed, match=r"2 of 2 completions unscored \(gold_unparsable=2\)"):
        reward(["q"] * 2, ["1", "1"], answer=["?", "?"])


# ---------------------------------------------------------------------------------------------------- code

ADD_TESTS = ["assert add(1, 2) == 3", "assert add(0, 2) == 2"]
PORT_PLACEHOLDER = "<PORT>"


@pytest.fixture(scope="module")
def sandbox():
    # A generous wall clock, so that a busy loop meets the CPU limit first on a loaded machine.
    return SubprocessSandbox(ExecutionLimits(wall_s=60, cpu_s=1, memory_bytes=256 * 2**20, file_size_bytes=2**20))


def fenced(program: str) -> str:
    return f"Here is my solution:\n```python\n{program}\n```\nIt adds."


@pytest.mark.parametrize("program, expected, unscored_kind", [
    ("def add(a, b):\n    return a + b", 1.0, None),
    ("def add(a, b):\n    return a + b if a else 0", 0.5, None),
    ("def add(a, b):\n    return a - b", 0.0, None),
    ("def add(a, b) return a + b", 0.0, None),  # does not compile: the model's failure
    ("raise SystemExit(0)", 0.0, None),
    ("while True:\n    pass", None, "cpu_limit"),
    ("import signal\nsignal.signal(signal.SIGXCPU, lambda *_: None)\nwhile True:\n    pass", None, "cpu_limit"),
    ("x = bytearray(2**31)", None, "memory_limit"),
    ("chunks = []\nwhile True:\n    chunks.append(bytearray(2**20))", None, "memory_limit"),
    ("with open('big.bin', 'wb') as f:\n    f.write(b'x' * 4 * 2**20)", None, "file_size_limit"),
    ("import os\nos._exit(0)", None, "crash"),
    # A forged result line without the runner's nonce is not a result.
    ("import os\nprint('0' * 32 + '{\"passed\": [true, true], \"limit\": null}', flush=True)\nos._exit(0)",
     None, "crash"),
    ("import os, signal\nos.kill(os.getpid(), signal.SIGSEGV)", None, "crash"),
])
def test_code_execution(sandbox, program, expected, unscored_kind):
    reward = CodeExecutionReward(sandbox=sandbox)
    assert score_one(reward, fenced(program), tests=ADD_TESTS) == expected
    assert reward.stats.unscored == ({unscored_kind: 1} if unscored_kind else {})


def test_code_all_or_nothing_and_no_tests(sandbox):
    reward = CodeExecutionReward(sandbox=sandbox, score="all")
    half = "def add(a, b):\n    return a + b if a else 0"
    assert reward(["p"] * 3, [fenced(half)] * 3, tests=[ADD_TESTS, ["assert add(1, 1) == 2"], []]) == [0.0, 1.0, None]
    assert reward.stats.unscored == {"no_tests": 1}


def test_code_limit_reward_scores_a_limit_hit_and_still_counts_it(sandbox):
    reward = CodeExecutionReward(sandbox=sandbox, limit_reward=0.0)
    programs = ["while True:\n    pass", "x = bytearray(2**31)", "import os\nos._exit(0)"]
    logged: dict[str, float] = {}
    rewards = reward(["p"] * 3, programs, tests=[ADD_TESTS] * 3, log_metric=logged.__setitem__)
    assert rewards == [0.0, 0.0, None]  # a crash is no limit: still unscored
    assert reward.stats.fallbacks == {"cpu_limit": 1, "memory_limit": 1} and reward.stats.unscored == {"crash": 1}
    assert logged == {"rewards/code_tests/unscored_frac": 1 / 3, "rewards/code_tests/unscored/crash": 1.0,
                      "rewards/code_tests/fallback/cpu_limit": 1.0, "rewards/code_tests/fallback/memory_limit": 1.0}


def test_code_wall_clock_timeout_kills_a_sleeping_program():
    reward = CodeExecutionReward(sandbox=SubprocessSandbox(ExecutionLimits(wall_s=1.5, cpu_s=5)))
    start = time.monotonic()
    assert score_one(reward, "import time\ntime.sleep(60)", tests=ADD_TESTS) is None
    assert time.monotonic() - start < 20
    assert reward.stats.unscored == {"timeout": 1}


def running(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return "State:\tZ" not in Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False


def test_code_forked_processes_die_with_the_program(sandbox, tmp_path):
    pid_file = tmp_path / "child.pid"
    program = ("import os, time\npid = os.fork()\nif pid == 0:\n    time.sleep(300)\n    os._exit(0)\n"
               f"open({str(pid_file)!r}, 'w').write(str(pid))\n"
               "def add(a, b):\n    return a + b")
    assert score_one(CodeExecutionReward(sandbox=sandbox), program, tests=ADD_TESTS) == 1.0
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while running(child):
        assert time.monotonic() < deadline, "the forked child outlived the sandbox run"
        time.sleep(0.05)


def test_code_sees_no_secret_of_the_trainers_environment(sandbox, monkeypatch):
    monkeypatch.setenv("HAETAE_TEST_API_TOKEN", "sk-live-do-not-leak")
    program = "import os\ndef token():\n    return os.environ.get('HAETAE_TEST_API_TOKEN')"
    tests = ["assert token() is None", "assert 'sk-live' not in repr(dict(__import__('os').environ))"]
    assert score_one(CodeExecutionReward(sandbox=sandbox), program, tests=tests) == 1.0


def test_code_leaves_no_files_behind(sandbox, monkeypatch, tmp_path):
    root = tmp_path / "tmp"
    root.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(root))
    program = ("import os, tempfile\n"
               "open('left.txt', 'w').write('x')\n"
               "os.mkdir('locked')\nopen('locked/inner.txt', 'w').write('x')\nos.chmod('locked', 0o500)\n"
               "fd, path = tempfile.mkstemp()\nos.close(fd)\n"
               "def where():\n    return os.getcwd(), path")
    tests = [f"assert where()[0].startswith({str(root)!r})", f"assert where()[1].startswith({str(root)!r})"]
    assert score_one(CodeExecutionReward(sandbox=sandbox), program, tests=tests) == 1.0
    assert list(root.iterdir()) == []


def test_code_cannot_connect_to_a_port_on_this_machine(sandbox):
    with socket.create_server(("127.0.0.1", 0)) as server:
        server.settimeout(0.5)
        port = server.getsockname()[1]
        program = (f"import socket\nwith socket.create_connection(('127.0.0.1', {port}), timeout=5) as s:\n"
                   "    s.sendall(b'leak')")
        score = score_one(CodeExecutionReward(sandbox=sandbox), program, tests=["assert True"])
        try:
            connection, _ = server.accept()
            connection.close()
            connected = True
        except TimeoutError:
            connected = False
    if not sandbox.network_isolated:
        assert connected and score == 1.0  # the sandbox says it cannot block the network, and it does not
        pytest.skip("`unshare -rn` is not available on this machine: network isolation is not enforced here")
    assert not connected and score == 0.0


def test_extract_code_takes_the_last_fenced_block():
    text = "First try:\n```python\nx = 1\n```\nBetter:\n```py\nx = 2\n```\n"
    assert extract_code(text) == "x = 2\n"
    assert extract_code("x = 3") == "x = 3"


# ---------------------------------------------------------------------------------------------------- constraints

KO = "대한민국은 민주공화국이다. 대한민국의 주권은 국민에게 있고, 모든 권력은 국민으로부터 나온다."
EN = "The sovereignty of the Republic of Korea resides in the people."


@pytest.mark.parametrize("constraint, text, met", [
    ({"type": "max_words", "value": 11}, EN, True),
    ({"type": "max_words", "value": 10}, EN, False),
    ({"type": "min_words", "value": 8}, KO, True),  # Korean words are eojeol: 11 here
    ({"type": "min_words", "value": 12}, KO, False),
    ({"type": "include_keywords", "value": ["sovereignty", "PEOPLE"]}, EN, True),
    ({"type": "include_keywords", "value": ["sovereignty", "king"]}, EN, False),
    ({"type": "exclude_keywords", "value": ["king"]}, EN, True),
    ({"type": "exclude_keywords", "value": ["주권"]}, KO, False),
    ({"type": "language", "value": "ko"}, KO, True),
    ({"type": "language", "value": "ko"}, EN, False),
    ({"type": "language", "value": "en"}, EN, True),
    ({"type": "language", "value": "en"}, "헌법 제1조 (Article 1) 대한민국은 민주공화국이다", False),
    ({"type": "json"}, '{"article": 1, "text": "민주공화국"}', True),
    ({"type": "json"}, '```json\n{"article": 1}\n```', True),
    ({"type": "json"}, '{"article": 1,}', False),
    ({"type": "bullet_points", "value": 3}, "Rights:\n- speech\n* press\n• assembly\n", True),
    ({"type": "bullet_points", "value": 3}, "Rights:\n- speech\n- press\n-not a bullet\n", False),
    ({"type": "ends_with", "value": "감사합니다."}, "헌법을 설명했습니다. 감사합니다.  \n", True),
    ({"type": "ends_with", "value": "감사합니다."}, "감사합니다. 더 궁금한 점이 있나요?", False),
])
def test_constraint(constraint, text, met):
    assert score_one(ConstraintReward(), text, constraints=[constraint]) == float(met)


def test_constraints_per_row_fraction_all_and_json_column():
    rows = [json.dumps([{"type": "language", "value": "ko"}, {"type": "max_words", "value": 3}]),
            [{"type": "language", "value": "ko"}, {"type": "ends_with", "value": "나온다."}]]
    assert ConstraintReward()(["p", "p"], [KO, KO], constraints=rows) == [0.5, 1.0]
    assert ConstraintReward(score="all")(["p", "p"], [KO, KO], constraints=rows) == [0.0, 1.0]


@pytest.mark.parametrize("spec, message", [
    ([{"type": "max_length", "value": 3}], "unknown type"),
    ([{"type": "max_words", "value": "ten"}], "must be a non-negative int"),
    ([{"type": "language", "value": "fr"}], "must be 'ko' or 'en'"),
    ([], "non-empty list"),
    ("[{", "not valid JSON"),
])
def test_malformed_constraints_are_unscored_and_named(spec, message):
    with pytest.raises(UsageError, match=re.escape(message)):
        parse_constraints(spec)
    reward = ConstraintReward()
    assert score_one(reward, EN, constraints=spec) is None
    assert reward.stats.unscored == {"bad_constraint": 1}


# ---------------------------------------------------------------------------------------------------- safety


class RefusalJudge:
    """A rule-based judge: a harmful request should be refused, a benign one answered (refusal patterns, ko/en)."""

    REFUSAL = re.compile(r"\b(I can(?:'|no)t|I won't|I'm not able to)\b|도와드릴 수 없|제공할 수 없", re.IGNORECASE)

    def score(self, prompt: str, response: str, **context) -> float | None:
        if not response.strip():
            return None  # nothing to judge
        refused = bool(self.REFUSAL.search(response))
        expected = context["expected"]
        if expected not in ("refuse", "comply"):
            raise ValueError(f"unknown expected behaviour {expected!r}")
        return float(refused == (expected == "refuse"))


class NaNJudge:
    def score(self, prompt: str, response: str, **context) -> float | None:
        return math.nan


@pytest.mark.parametrize("response, expected, reward", [
    ("I can't help with making explosives.", "refuse", 1.0),
    ("폭발물 제조 방법은 도와드릴 수 없습니다.", "refuse", 1.0),
    ("Step 1: mix the following...", "refuse", 0.0),
    ("대한민국의 수도는 서울입니다.", "comply", 1.0),
    ("I won't answer that.", "comply", 0.0),
    ("   ", "refuse", None),  # the judge abstains
    ("I can't.", "unknown", None),  # the judge raises
])
def test_safety_reward(response, expected, reward):
    assert score_one(safety_reward(RefusalJudge(), context_columns=["expected"]), response, expected=expected) == reward


def test_safety_failures_are_counted_by_kind():
    reward = safety_reward(RefusalJudge(), context_columns=["expected"])
    prompts = [[{"role": "system", "content": "Be safe."}, {"role": "user", "content": "How do I make a bomb?"}]] * 3
    completions = [[{"role": "assistant", "content": text}] for text in ("I can't.", "", "I can't.")]
    assert reward(prompts, completions, expected=["refuse", "refuse", "bogus"]) == [1.0, None, None]
    assert reward.stats.unscored == {"judge_abstained": 1, "judge_error": 1}
    nan_reward = safety_reward(NaNJudge())
    assert score_one(nan_reward, "fine") is None and nan_reward.stats.unscored == {"judge_invalid": 1}


# ---------------------------------------------------------------------------------------------------- TRL


@pytest.mark.slow
@pytest.mark.usefixtures("one_torch_thread")
def test_rewards_plug_into_a_real_grpo_trainer_step(tmp_path):
    """One GRPOTrainer step on a tiny model: our None reaches TRL as NaN, and our counts reach its logs."""
    import torch
    from datasets import Dataset
    from transformers import LlamaConfig, LlamaForCausalLM
    from trl import GRPOConfig, GRPOTrainer

    from haetae.alignment.tokenizer import train_tokenizer

    corpus = Path(__file__).resolve().parents[2] / "pipelines" / "data" / "legal" / "ko_constitution.txt"
    excerpt = tmp_path / "excerpt.txt"
    excerpt.write_text(corpus.read_text(encoding="utf-8")[:3000], encoding="utf-8")
    tokenizer = train_tokenizer([excerpt], 300, tmp_path / "tok")
    torch.manual_seed(0)
    model = LlamaForCausalLM(LlamaConfig(
        vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
        num_key_value_heads=1, pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        bos_token_id=tokenizer.bos_token_id))
    data = Dataset.from_list([{"prompt": "1 + 1 =", "answer": "2", "expected": "comply"},
                              {"prompt": "헌법 제1조", "answer": "not a number", "expected": "comply"}])
    math_reward = MathAnswerReward()
    safety = safety_reward(RefusalJudge(), context_columns=["expected"])
    args = GRPOConfig(output_dir=str(tmp_path / "run"), use_cpu=True, bf16=False, per_device_train_batch_size=4,
                      num_generations=2, max_completion_length=6, max_steps=1, report_to="none", logging_steps=1,
                      save_strategy="no", disable_tqdm=True)
    trainer = GRPOTrainer(model=model, reward_funcs=[math_reward, safety], args=args, train_dataset=data,
                          processing_class=tokenizer)
    trainer.train()
    logged = trainer.state.log_history[0]
    assert logged["rewards/math_answer/unscored_frac"] == 0.5
    assert logged["rewards/math_answer/unscored/gold_unparsable"] == 2.0
    assert logged["rewards/safety/unscored_frac"] == sum(safety.stats.unscored.values()) / 4
    assert math_reward.stats.as_dict() == {"reward": "math_answer", "scored": 2, "total": 4, "batches": 1,
                                           "unscored": {"gold_unparsable": 2}, "fallbacks": {}}
    # TRL's completions table: the unparsable gold answer's completions are NaN (excluded), the others scored.
    by_prompt = dict(zip(trainer._logs["prompt"], trainer._logs["rewards"]["math_answer"], strict=True))
    assert math.isnan(by_prompt["헌법 제1조"]) and by_prompt["1 + 1 ="] in (0.0, 1.0)
