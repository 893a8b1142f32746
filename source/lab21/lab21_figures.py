"""Figures for Lab 21: network diagrams and the plots the notebook shows.

Colours follow the lab: inputs green, hidden nodes purple, the output red.
"""

import matplotlib.pyplot as plt
import numpy as np
import seaborn as sns
from matplotlib.patches import Circle, FancyArrowPatch

LAYER_COLOURS = {"input": "#4caf50", "hidden": "#8e44ad", "output": "#d62728"}


def _layer_kind(index, n_layers):
    if index == 0:
        return "input"
    return "output" if index == n_layers - 1 else "hidden"


def draw_network(layer_sizes, node_labels=None, edge_labels=None, title=None, ax=None):
    """Draw a fully connected feed-forward network, one column of nodes per layer.

    layer_sizes: nodes per layer, inputs first, e.g. [3, 1, 1].
    node_labels: optional list (one list per layer) of text to put inside the nodes.
    edge_labels: optional dict {(layer, from_node, to_node): text} written beside the arrows.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(1.8 * len(layer_sizes) + 1, 0.9 * max(layer_sizes) + 1.2))
    radius, tallest = 0.22, max(layer_sizes)
    centres = [
        [(float(layer), (tallest - 1) / 2 + (size - 1) / 2 - node) for node in range(size)]
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
                        mutation_scale=12,
                        color="0.35",
                        shrinkA=radius * 72,
                        shrinkB=radius * 72,
                        lw=1.1,
                    )
                )
                text = (edge_labels or {}).get((layer, start_index, end_index))
                if text:
                    x = start[0] + 0.35 * (end[0] - start[0])
                    y = start[1] + 0.35 * (end[1] - start[1]) + 0.12
                    ax.text(x, y, text, ha="center", va="bottom", fontsize=10)
    for layer, column in enumerate(centres):
        colour = LAYER_COLOURS[_layer_kind(layer, len(layer_sizes))]
        for node, (x, y) in enumerate(column):
            ax.add_patch(Circle((x, y), radius, color=colour, zorder=3))
            if node_labels:
                ax.text(
                    x,
                    y,
                    node_labels[layer][node],
                    ha="center",
                    va="center",
                    color="white",
                    fontsize=9,
                    zorder=4,
                )
    ax.set_xlim(-0.5, len(layer_sizes) - 0.5)
    ax.set_ylim(-0.6, tallest - 0.4)
    ax.set_aspect("equal")
    ax.axis("off")
    if title:
        ax.set_title(title)
    return ax


def plot_data(frame, ax=None):
    """Scatter plot of the two features, coloured by label."""
    ax = sns.scatterplot(data=frame, x="x1", y="x2", hue="label", palette="Set1", ax=ax)
    ax.set_aspect("equal")
    ax.set_title("lab14data.csv: two classes")
    return ax


def plot_activations(functions, ax=None):
    """Plot each activation function (a dict name -> function) on [-5, 5]."""
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    x = np.linspace(-5, 5, 401)
    for name, function in functions.items():
        ax.plot(x, np.asarray(function(x), dtype=float), label=name)
    ax.set_ylim(-0.5, 2.5)
    ax.axhline(0, color="0.6", lw=0.8)
    ax.legend()
    ax.set_title("Activation functions")
    return ax


def network_output(features, input_weights, hidden_weight):
    """Red for every row of `features` (the forward pass, vectorised)."""
    hidden = 1 / (1 + np.exp(-np.clip(features @ input_weights, -500, 500)))
    return 1 / (1 + np.exp(-hidden_weight * hidden))


def plot_decision_boundary(data, input_weights, hidden_weight, ax=None):
    """Shade the plane by the class the trained network predicts; dots are the true labels."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 5))
    features, labels = data[:, :2], data[:, -1]
    lows, highs = features.min(axis=0) - 0.5, features.max(axis=0) + 0.5
    grid_x, grid_y = np.meshgrid(
        np.linspace(lows[0], highs[0], 200), np.linspace(lows[1], highs[1], 200)
    )
    grid = np.column_stack([grid_x.ravel(), grid_y.ravel()])
    red = network_output(grid, np.asarray(input_weights, dtype=float), float(hidden_weight))
    cut = 1 / (1 + np.exp(-float(hidden_weight) / 2))
    ax.contourf(
        grid_x,
        grid_y,
        (red >= cut).reshape(grid_x.shape),
        levels=[-0.5, 0.5, 1.5],
        colors=["#fbb4ae", "#b3cde3"],
        alpha=0.6,
    )
    for label, colour in ((0, "#e41a1c"), (1, "#377eb8")):
        chosen = labels == label
        ax.scatter(
            features[chosen, 0], features[chosen, 1], s=14, color=colour, label=f"label {label}"
        )
    ax.set_aspect("equal")
    ax.legend(loc="upper right")
    ax.set_title("What the trained network predicts")
    return ax


def plot_training_loss(losses, ax=None):
    """The mean squared error after each epoch."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3.2))
    ax.plot(range(len(losses)), losses, marker="o")
    ax.set_xlabel("epochs of training")
    ax.set_ylabel("MSE on the data")
    ax.set_title("Training loss")
    return ax
