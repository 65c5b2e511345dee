"""The matplotlib engine of the lessons' pictures: no lesson knowledge, public names only.

Everything draws into a ``Figure`` or ``Axes`` it is given (never ``pyplot``) and makes its artists once; the
``update``/``set_*`` methods change them in place, so an explorer redraws without building anything new and the
same code makes the lessons' still figures.

- :mod:`~cnn_lessons.drawing.style`: colours, and how every number in a figure is written.
- :mod:`~cnn_lessons.drawing.text`: text drawn in bulk, one path collection per block of labels.
- :mod:`~cnn_lessons.drawing.cells`: grids of annotated square cells, and cells drawn in bulk.
- :mod:`~cnn_lessons.drawing.images`: still images and colour bars that update in place.
- :mod:`~cnn_lessons.drawing.diagrams`: block diagrams of network modules, laid out from a spec.
"""

from __future__ import annotations

from cnn_lessons.drawing.cells import (
    CellCollection,
    Grid,
    cell_axes,
    cell_centres,
    cell_collection,
    cell_paths,
    cell_squares,
    draw_grid,
    fit_cells,
    number_size,
    outline,
    outline_collection,
)
from cnn_lessons.drawing.diagrams import (
    DIAGRAM_STYLES,
    DIAGRAM_X,
    LAYER_KINDS,
    BlockDiagram,
    DiagramEdge,
    DiagramNode,
    DiagramSpec,
    diagram_size,
    draw_block_diagram,
)
from cnn_lessons.drawing.images import (
    ColorBar,
    StillImage,
    framed,
    still_image,
)
from cnn_lessons.drawing.style import (
    COLORS,
    DIVERGING,
    MINUS,
    TIMES,
    colormap,
    format_count,
    format_number,
    term,
)
from cnn_lessons.drawing.text import (
    GlyphLabels,
    TextBatch,
    axes_title,
    bulk_drawing,
    button_width,
    naive_drawing,
    text_width,
    wrap,
)

__all__ = [
    "MINUS",
    "TIMES",
    "COLORS",
    "DIVERGING",
    "format_number",
    "term",
    "colormap",
    "format_count",
    "bulk_drawing",
    "naive_drawing",
    "GlyphLabels",
    "TextBatch",
    "wrap",
    "axes_title",
    "text_width",
    "button_width",
    "Grid",
    "draw_grid",
    "outline",
    "cell_axes",
    "CellCollection",
    "cell_paths",
    "cell_squares",
    "cell_collection",
    "outline_collection",
    "cell_centres",
    "fit_cells",
    "number_size",
    "StillImage",
    "still_image",
    "framed",
    "ColorBar",
    "DIAGRAM_STYLES",
    "LAYER_KINDS",
    "DIAGRAM_X",
    "DiagramNode",
    "DiagramEdge",
    "DiagramSpec",
    "draw_block_diagram",
    "diagram_size",
    "BlockDiagram",
]
