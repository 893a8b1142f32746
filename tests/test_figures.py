"""The lab's figures (source/lab21/lab21_figures.py) can be read by everyone.

- Category colours stay far apart (CIEDE2000) for normal vision and under deuteranopia and
  protanopia, simulated with colour-science (Machado et al. 2009, full severity).
- Nothing depends on colour alone: every kind of node and every class has its own shape.
- Axis labels, legends, whole-number epoch ticks, edge labels clear of the nodes, and a text
  description for every figure; the predictions plot shows the predictions it is given.

Each figure is also saved as a PNG under build/figures/, to be looked at.
"""

import importlib.util
import itertools
import random
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest

from coursepack import COURSE_ROOT
from coursepack.reference import load_reference

matplotlib.use("Agg")
with warnings.catch_warnings():
    # colour-science says once that SciPy is absent; nothing used here needs it.
    warnings.simplefilter("ignore")
    import colour

SOURCE = COURSE_ROOT / "source" / "lab21"
FIGURES = COURSE_ROOT / "build" / "figures"
spec = importlib.util.spec_from_file_location("lab21_figures", SOURCE / "lab21_figures.py")
figures = importlib.util.module_from_spec(spec)
spec.loader.exec_module(figures)

VISIONS = {"normal": None, "deuteranopia": "Deuteranomaly", "protanopia": "Protanomaly"}
MIN_DIFFERENCE = 20  # CIEDE2000; about 2 is "just noticeable", 20 "clearly another colour"
HANDOUT_PALETTE = {"input": "#4caf50", "hidden": "#8e44ad", "output": "#d62728"}


def seen_as(hex_colour, vision):
    """CIE Lab of an sRGB colour as seen with `vision` (None: normal)."""
    linear = colour.models.eotf_sRGB(colour.notation.HEX_to_RGB(hex_colour))
    deficiency = VISIONS[vision]
    if deficiency:
        matrix = colour.blindness.matrix_cvd_Machado2009(deficiency, 1.0)
        linear = np.clip(linear @ matrix.T, 0, 1)
    xyz = colour.RGB_to_XYZ(linear, "sRGB", apply_cctf_decoding=False)
    return colour.XYZ_to_Lab(xyz)


def closest_pair(palette, vision):
    """The smallest CIEDE2000 difference between two colours of `palette`."""
    return min(
        float(colour.delta_E(seen_as(a, vision), seen_as(b, vision), method="CIE 2000"))
        for a, b in itertools.combinations(palette.values(), 2)
    )


@pytest.mark.parametrize("vision", VISIONS)
@pytest.mark.parametrize("palette", ["LAYER_COLOURS", "CLASS_COLOURS"])
def test_category_colours_stay_apart(palette, vision):
    assert closest_pair(getattr(figures, palette), vision) >= MIN_DIFFERENCE


def test_the_check_catches_a_palette_that_fails():
    # The handout's green inputs and red output: both olive for a deuteranope.
    assert closest_pair(HANDOUT_PALETTE, "normal") >= MIN_DIFFERENCE
    assert closest_pair(HANDOUT_PALETTE, "deuteranopia") < MIN_DIFFERENCE


def contrast(foreground, background):
    """WCAG contrast ratio of two colours."""

    def luminance(name):
        rgb = colour.models.eotf_sRGB(np.asarray(matplotlib.colors.to_rgb(name)))
        return float(np.dot(rgb, [0.2126, 0.7152, 0.0722]))

    light, dark = sorted([luminance(foreground), luminance(background)], reverse=True)
    return (light + 0.05) / (dark + 0.05)


def test_nothing_depends_on_colour_alone():
    assert len(set(figures.LAYER_SHAPES.values())) == len(figures.LAYER_SHAPES)
    assert len(set(figures.CLASS_MARKERS.values())) == len(figures.CLASS_MARKERS)
    for kind, fill in figures.LAYER_COLOURS.items():
        assert contrast(figures.LAYER_TEXT[kind], fill) >= 4.5, kind


# ----------------------------------------------------------------------------------------------
# The figures as the notebook draws them


@pytest.fixture(scope="module")
def lab():
    frame = pd.read_csv(SOURCE / "lab14data.csv")
    reference = load_reference()
    data = frame.to_numpy(dtype=float)
    np.random.seed(21)
    random.seed(21)
    input_weights, hidden_weight, predictions = reference.firstNN(data, 20)
    return frame, data, reference, input_weights, hidden_weight, predictions


def save(name, fig):
    FIGURES.mkdir(parents=True, exist_ok=True)
    (FIGURES / f"{name}.png").write_bytes(figures.figure_png(fig))
    matplotlib.pyplot.close(fig)


def text_boxes(fig, texts):
    renderer = fig.canvas.get_renderer()
    return [text.get_window_extent(renderer) for text in texts]


@pytest.mark.parametrize(
    "name, layers, nodes, edges",
    [
        ("network_layers", [3, 4, 2], None, None),
        ("network_perceptron", [3, 1], [["x1", "x2", "x3"], ["Red"]],
         {(0, 0, 0): "w1", (0, 1, 0): "w2", (0, 2, 0): "w3"}),
        ("network_hidden", [3, 1, 1], [["x1", "x2", "x3"], ["Purple"], ["Red"]],
         {(0, 0, 0): "w1(0)", (0, 1, 0): "w2(0)", (0, 2, 0): "w3(0)", (1, 0, 0): "w1(1)"}),
    ],
)  # fmt: skip
def test_network_diagrams_label_layers_and_keep_edge_labels_clear(name, layers, nodes, edges):
    fig, description = figures.network_figure(layers, nodes, edges, title=name)
    ax = fig.axes[0]
    fig.canvas.draw()
    texts = {text.get_text(): text for text in ax.texts}
    for kind in ("input", "output"):
        assert any(label.startswith(f"{kind} layer") for label in texts), kind
    if edges:
        renderer = fig.canvas.get_renderer()
        labels = [texts[text] for text in edges.values()]
        boxes = [label.get_bbox_patch().get_window_extent(renderer) for label in labels]
        nodes_drawn = [patch.get_window_extent(renderer) for patch in ax.patches[-sum(layers) :]]
        for box, text in zip(boxes, edges.values(), strict=True):
            assert not any(box.overlaps(node) for node in nodes_drawn), f"{text} covers a node"
        for a, b in itertools.combinations(boxes, 2):
            assert not a.overlaps(b)
    assert f"{layers[0]} nodes" in description
    save(name, fig)


def test_data_plot(lab):
    frame = lab[0]
    fig, description = figures.data_figure(frame)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "label 0 (circles)",
        "label 1 (triangles)",
    ]
    assert "up and to the left" in description and "down and to the right" in description
    save("data", fig)


def test_activation_plot_gives_each_function_its_panel(lab):
    reference = lab[2]

    def step(x):
        return (np.asarray(x) >= 0).astype(float)

    functions = {"identity": lambda x: x, "step": step, "sigmoid": reference.sigmoid,
                 "ReLU": reference.ReLU}  # fmt: skip
    fig, description = figures.activations_figure(functions, reference=("step", step))
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    assert [ax.get_title() for ax in panels] == list(functions)
    assert all(ax.get_legend() is not None for ax in panels)
    assert {ax.get_ylabel() for ax in panels} == {"φ(x)", ""}  # once per row
    assert any(ax.get_xlabel() for ax in panels)
    assert "ReLU is 0 for negative x" in description
    save("activations", fig)


def test_predictions_plot_shows_the_predictions_it_is_given(lab):
    _, data, reference, input_weights, hidden_weight, predictions = lab
    fig, description = figures.predictions_figure(data, predictions, input_weights)
    ax = fig.axes[0]
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("x1", "x2")
    right = int(np.sum(predictions == data[:, -1]))
    assert ax.get_title() == f"Your predictions: {right} of 200 right"
    save("predictions", fig)

    # The handout's threshold of 0.5 puts every row in class 1: the picture must say so.
    red = figures.network_output(data[:, :-1], input_weights, hidden_weight)
    fig, description = figures.predictions_figure(data, (red >= 0.5).astype(int), input_weights)
    ax = fig.axes[0]
    assert ax.get_title() == "Your predictions: 100 of 200 right"
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "predicted 0 (circles): 0" in legend and "wrong prediction: 100" in legend
    assert "100 wrong ones are crossed out" in description
    save("predictions_threshold_0.5", fig)

    with pytest.raises(ValueError, match="one prediction per row"):
        figures.predictions_figure(data, predictions[:-1])


def test_loss_plot_counts_whole_epochs(lab):
    _, data, reference, *_ = lab
    losses = []
    for epochs in range(11):
        np.random.seed(21)
        random.seed(21)
        w0, w1, _ = reference.firstNN(data, epochs)
        losses.append(np.mean((data[:, -1] - figures.network_output(data[:, :-1], w0, w1)) ** 2))
    fig, description = figures.loss_figure(losses)
    ax = fig.axes[0]
    fig.canvas.draw()
    low, high = ax.get_xlim()
    ticks = [tick for tick in ax.get_xticks() if low <= tick <= high]
    assert len(ticks) >= 3 and all(float(tick).is_integer() for tick in ticks)
    assert ax.get_xlabel() == "epochs of training" and "MSE" in ax.get_ylabel()
    assert ax.get_ylim()[0] == 0  # the floor's distance from zero stays visible
    assert 0.125 < losses[-1] < 0.14 and "levels off near 0.13" in description
    save("loss", fig)
