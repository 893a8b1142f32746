"""Figures for Lab 21: network diagrams and the plots the notebook shows.

Nothing in these figures depends on colour alone. Each kind of node has its own shape and is
named under its column (input: squares, hidden: circles, output: hexagons); each class has its
own marker; each curve has its own panel and title. The colours (mostly Okabe-Ito's palette)
stay distinguishable for the common forms of colour blindness.

Each drawing function shows its figure with a short text description (its "alt text"), which
screen readers read and exported HTML keeps. Pass `ax=` to draw into your own axes instead;
the functions whose name ends in `_figure` return the figure and its description unshown.
"""

import io

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, RegularPolygon
from matplotlib.ticker import MaxNLocator

# Okabe-Ito blue and vermillion, and a light purple (ColorBrewer). The hidden node is called
# Purple and the output Red in the lab's formulas, so they get a purple and a red; the three stay
# far apart for deuteranopia and protanopia too (tests/test_figures.py measures it).
LAYER_COLOURS = {"input": "#0072B2", "hidden": "#C2A5CF", "output": "#D55E00"}
LAYER_TEXT = {"input": "white", "hidden": "black", "output": "black"}  # legible on each fill
LAYER_SHAPES = {"input": "square", "hidden": "circle", "output": "hexagon"}
CLASS_COLOURS = {0: "#0072B2", 1: "#E69F00"}
CLASS_MARKERS = {0: "o", 1: "^"}
CLASS_SHAPE_NAMES = {0: "circles", 1: "triangles"}
NODE_RADIUS = 0.3


def _layer_kind(index, n_layers):
    if index == 0:
        return "input"
    return "output" if index == n_layers - 1 else "hidden"


def show(fig, description):
    """Display `fig` as a PNG carrying `description` as its alt text, then close it."""
    from IPython.display import Image, display

    display(Image(data=figure_png(fig), format="png", alt=description))
    plt.close(fig)


def figure_png(fig, dpi=100):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return buffer.getvalue()


def _node_patch(kind, centre):
    style = {"facecolor": LAYER_COLOURS[kind], "edgecolor": "black", "lw": 1.0, "zorder": 3}
    if kind == "input":
        side = 1.7 * NODE_RADIUS
        return RegularPolygon(centre, 4, radius=side / np.sqrt(2), orientation=np.pi / 4, **style)
    if kind == "output":
        return RegularPolygon(centre, 6, radius=1.1 * NODE_RADIUS, **style)
    return Circle(centre, NODE_RADIUS, **style)


# ----------------------------------------------------------------------------------------------
# Network diagrams


def network_figure(layer_sizes, node_labels=None, edge_labels=None, title=None, ax=None):
    """Draw a fully connected feed-forward network; return (figure, description).

    layer_sizes: nodes per layer, inputs first, e.g. [3, 1, 1].
    node_labels: optional list (one list per layer) of short text to put inside the nodes.
    edge_labels: optional dict {(layer, from_node, to_node): text} written on the arrows.
    """
    n_layers, tallest = len(layer_sizes), max(layer_sizes)
    if ax is None:
        _, ax = plt.subplots(figsize=(2.4 * n_layers + 0.6, 1.05 * tallest + 1.6))
    gap = 2.0  # horizontal distance between layers, in data units (nodes are 1 apart vertically)
    centres = [
        [(gap * layer, (tallest - 1) / 2 + (size - 1) / 2 - node) for node in range(size)]
        for layer, size in enumerate(layer_sizes)
    ]
    for layer, column in enumerate(centres[:-1]):
        for start_index, start in enumerate(column):
            for end_index, end in enumerate(centres[layer + 1]):
                ax.add_patch(
                    FancyArrowPatch(
                        start,
                        end,
                        arrowstyle="-|>",
                        mutation_scale=14,
                        color="0.3",
                        lw=1.2,
                        shrinkA=NODE_RADIUS * 80,
                        shrinkB=NODE_RADIUS * 95,
                        zorder=1,
                    )
                )
                text = (edge_labels or {}).get((layer, start_index, end_index))
                if text:
                    # Halfway along the arrow, on a white box: clear of the nodes at both ends.
                    x = (start[0] + end[0]) / 2
                    y = (start[1] + end[1]) / 2
                    ax.text(
                        x,
                        y,
                        text,
                        ha="center",
                        va="center",
                        fontsize=10,
                        zorder=2,
                        bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                    )
    for layer, column in enumerate(centres):
        kind = _layer_kind(layer, n_layers)
        for node, (x, y) in enumerate(column):
            ax.add_patch(_node_patch(kind, (x, y)))
            if node_labels:
                ax.text(
                    x,
                    y,
                    node_labels[layer][node],
                    ha="center",
                    va="center",
                    color=LAYER_TEXT[kind],
                    fontsize=9,
                    fontweight="bold",
                    zorder=4,
                )
        ax.text(
            gap * layer,
            -0.75,
            f"{kind} layer\n({LAYER_SHAPES[kind]}{'s' if len(column) > 1 else ''})",
            ha="center",
            va="top",
            fontsize=9,
        )
    ax.set_xlim(-0.6, gap * (n_layers - 1) + 0.6)
    ax.set_ylim(-1.45, tallest - 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax.figure, describe_network(layer_sizes, node_labels, edge_labels, title)


def describe_network(layer_sizes, node_labels=None, edge_labels=None, title=None):
    """A sentence or two saying what a network diagram shows."""
    kinds = [_layer_kind(i, len(layer_sizes)) for i in range(len(layer_sizes))]
    layers = []
    for index, (kind, size) in enumerate(zip(kinds, layer_sizes, strict=True)):
        names = f" ({', '.join(node_labels[index])})" if node_labels else ""
        layers.append(f"{kind} layer of {size} node{'s' if size > 1 else ''}{names}")
    text = f"Network diagram{': ' + title if title else ''}. From left to right: "
    text += "; ".join(layers) + ". Arrows run from every node of a layer to every node of the next."
    if edge_labels:
        text += " The arrows are labelled with their weights: " + ", ".join(edge_labels.values())
        text += "."
    return text


def draw_network(layer_sizes, node_labels=None, edge_labels=None, title=None, ax=None):
    """Show a network diagram (see `network_figure`)."""
    fig, description = network_figure(layer_sizes, node_labels, edge_labels, title, ax)
    if ax is None:
        show(fig, description)


# ----------------------------------------------------------------------------------------------
# The data and the activation functions


def _direction(x, y):
    """Where a point lies from the origin, in words: 'up and to the left'."""
    vertical = "up" if y > 0 else "down"
    return f"{vertical} and to the {'right' if x > 0 else 'left'}"


def data_figure(frame, ax=None):
    """Scatter plot of the two features, one marker and colour per label."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5.2, 4.6))
    for label in (0, 1):
        rows = frame[frame["label"] == label]
        ax.scatter(
            rows["x1"],
            rows["x2"],
            s=26,
            marker=CLASS_MARKERS[label],
            color=CLASS_COLOURS[label],
            edgecolor="black",
            linewidth=0.4,
            label=f"label {label} ({CLASS_SHAPE_NAMES[label]})",
        )
    ax.axhline(0, color="0.6", lw=0.8, zorder=0)
    ax.axvline(0, color="0.6", lw=0.8, zorder=0)
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    ax.legend(loc="upper right", framealpha=0.95)
    ax.set_title(f"lab14data.csv: {len(frame)} rows, two classes")
    groups = []
    for label in (0, 1):
        rows = frame[frame["label"] == label]
        groups.append(
            f"{len(rows)} rows of label {label} ({CLASS_SHAPE_NAMES[label]}) sit mostly"
            f" {_direction(rows['x1'].mean(), rows['x2'].mean())} of the origin"
        )
    description = (
        f"Scatter plot of the {len(frame)} rows of lab14data.csv, x1 across and x2 up, with the"
        f" axes crossing at the origin. {groups[0]}; {groups[1]}."
    )
    return ax.figure, description


def plot_data(frame, ax=None):
    """Show the lab's data set (see `data_figure`)."""
    fig, description = data_figure(frame, ax)
    if ax is None:
        show(fig, description)


def activations_figure(functions, reference=None):
    """One small panel per activation function (a dict name -> function), on x in [-4, 4].

    reference: optional (name, function) drawn faintly in every other panel, for comparison.
    """
    names = list(functions)
    columns = 2
    rows = (len(names) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(7.2, 2.9 * rows), sharex=True, sharey=True)
    axes = np.atleast_1d(axes).ravel()
    x = np.linspace(-4, 4, 801)
    for ax, name in zip(axes, names, strict=False):
        if reference and reference[0] != name:
            ax.plot(
                x,
                np.asarray(reference[1](x), dtype=float),
                color="0.55",
                lw=1.4,
                ls="--",
                label=f"{reference[0]}, for comparison",
            )
        ax.plot(x, np.asarray(functions[name](x), dtype=float), color="black", lw=2.2, label=name)
        ax.axhline(0, color="0.75", lw=0.8, zorder=0)
        ax.axvline(0, color="0.75", lw=0.8, zorder=0)
        ax.set_title(name)
        ax.set_ylim(-1.3, 2.3)
        ax.set_xlabel("x (the weighted sum)")
        ax.set_ylabel("φ(x)")
        ax.legend(loc="upper left", fontsize=8, framealpha=0.95)
        ax.label_outer()  # axis labels once per row and column, not in every panel
    for ax in axes[len(names) :]:
        ax.axis("off")
    fig.suptitle("Activation functions, one per panel")
    fig.tight_layout()
    description = (
        f"{len(names)} panels, one per function, each plotting φ(x) for x from -4 to 4: "
        + ", ".join(names)
        + "."
        + (f" A dashed grey {reference[0]} is drawn in the other panels." if reference else "")
        + " The step jumps from 0 to 1 at x = 0; the sigmoid rises smoothly from near 0 to near 1,"
        " passing 0.5 at x = 0; ReLU is 0 for negative x and equals x for positive x; the"
        " identity is the straight line y = x."
    )
    return fig, description


def plot_activations(functions, reference=None):
    """Show the activation functions, one panel each (see `activations_figure`)."""
    show(*activations_figure(functions, reference))


# ----------------------------------------------------------------------------------------------
# Training results


def network_output(features, input_weights, hidden_weight):
    """Red for every row of `features` (the forward pass, vectorised)."""
    hidden = 1 / (1 + np.exp(-np.clip(features @ input_weights, -500, 500)))
    return 1 / (1 + np.exp(-hidden_weight * hidden))


def predictions_figure(data, predictions, input_weights=None, ax=None):
    """Each row of `data` drawn by the class in `predictions` (yours), wrong ones crossed out.

    data: rows of (x1, x2, label); predictions: one 0/1 per row, in the rows' order.
    input_weights: if given, the line where input_weights . x = 0 (where the hidden node's
    output H is 0.5) is drawn dashed.
    """
    data = np.asarray(data, dtype=float)
    features, labels = data[:, :2], data[:, -1]
    predictions = np.asarray(predictions).reshape(-1)
    if predictions.shape != labels.shape:
        raise ValueError(
            f"expected one prediction per row ({len(labels)}), got shape {np.shape(predictions)}"
        )
    predicted = predictions.astype(float)
    wrong = predicted != labels
    if ax is None:
        _, ax = plt.subplots(figsize=(6.4, 5.0))
    for label in (0, 1):
        chosen = predicted == label
        ax.scatter(
            features[chosen, 0],
            features[chosen, 1],
            s=26,
            marker=CLASS_MARKERS[label],
            color=CLASS_COLOURS[label],
            edgecolor="black",
            linewidth=0.4,
            label=f"predicted {label} ({CLASS_SHAPE_NAMES[label]}): {chosen.sum()}",
        )
    ax.scatter(
        features[wrong, 0],
        features[wrong, 1],
        s=90,
        marker="x",
        color="black",
        linewidth=1.6,
        label=f"wrong prediction: {wrong.sum()}",
    )
    lows, highs = features.min(axis=0) - 0.4, features.max(axis=0) + 0.4
    line_text = ""
    if input_weights is not None:
        w = np.asarray(input_weights, dtype=float).reshape(-1)
        if w.shape == (2,) and np.any(w != 0):
            # w[0] x1 + w[1] x2 = 0, drawn as a segment across the plotted box.
            direction = np.array([-w[1], w[0]]) / np.hypot(*w)
            reach = np.abs(np.concatenate([lows, highs])).max() * 2
            ends = np.array([-reach * direction, reach * direction])
            ax.plot(
                ends[:, 0], ends[:, 1], color="black", ls="--", lw=1.5, label="H = 0.5 (w0 · x = 0)"
            )
            line_text = (
                " A dashed line through the origin marks where the hidden node's output H is 0.5."
            )
    ax.set_xlim(lows[0], highs[0])
    ax.set_ylim(lows[1], highs[1])
    ax.set_xlabel("x1")
    ax.set_ylabel("x2")
    ax.set_aspect("equal")
    right = int((~wrong).sum())
    ax.set_title(f"Your predictions: {right} of {len(labels)} right")
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), framealpha=0.95, fontsize=9)
    description = (
        f"Scatter plot of the {len(labels)} rows, x1 across and x2 up, each drawn by the class"
        f" predicted for it: {int((predicted == 0).sum())} circles (class 0) and"
        f" {int((predicted == 1).sum())} triangles (class 1). {right} of {len(labels)}"
        f" predictions match the labels; the {int(wrong.sum())} wrong ones are crossed out."
        + line_text
    )
    return ax.figure, description


def plot_predictions(data, predictions, input_weights=None, ax=None):
    """Show each row by its predicted class, wrong ones crossed out (see `predictions_figure`)."""
    fig, description = predictions_figure(data, predictions, input_weights, ax)
    if ax is None:
        show(fig, description)


def loss_figure(losses, ax=None):
    """The mean squared error after each epoch (losses[e] after e epochs)."""
    losses = np.asarray(losses, dtype=float)
    if ax is None:
        _, ax = plt.subplots(figsize=(6.0, 3.6))
    epochs = np.arange(len(losses))
    ax.plot(epochs, losses, marker="o", color="black", lw=1.6)
    ax.axhline(losses[-1], color="0.5", ls=":", lw=1.2)
    ax.annotate(
        f"levels off near {losses[-1]:.2f}",
        xy=(epochs[-1], losses[-1]),
        xytext=(0, 8),
        textcoords="offset points",
        ha="right",
        va="bottom",
        fontsize=9,
    )
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlim(-0.3, epochs[-1] + 0.3)
    ax.set_ylim(0, max(losses.max() * 1.1, 0.3))
    ax.set_xlabel("epochs of training")
    ax.set_ylabel("mean squared error (MSE)")
    ax.set_title("Training loss after each epoch")
    ax.grid(axis="y", color="0.9")
    description = (
        f"Line plot of the mean squared error after 0 to {len(losses) - 1} epochs of training:"
        f" it starts at {losses[0]:.2f}, falls to {losses[min(2, len(losses) - 1)]:.2f} after"
        f" {min(2, len(losses) - 1)} epochs and then levels off near {losses[-1]:.2f}, well"
        " above 0."
    )
    return ax.figure, description


def plot_training_loss(losses, ax=None):
    """Show the training loss per epoch (see `loss_figure`)."""
    fig, description = loss_figure(losses, ax)
    if ax is None:
        show(fig, description)
