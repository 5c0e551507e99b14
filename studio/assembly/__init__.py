"""Assembly: the Assembler's inputs -> a sequence -> an EDL (+ .otio, FCP XML) -> the film.

* :mod:`~studio.assembly.model` — the sequence (frozen data) and the resolver's facts.
* :mod:`~studio.assembly.timecode` — frame rates and timecode.
* :mod:`~studio.assembly.sequence` — the graph -> the sequence (pure).
* :mod:`~studio.assembly.edl` — the sequence <-> OpenTimelineIO, CMX 3600, FCP 7 XML (pure).
* :mod:`~studio.assembly.resolve` — the project -> the pure part's inputs (I/O: takes, ffprobe).
* :mod:`~studio.assembly.export` — versioned EDL / .otio / XML files, committed (I/O).
* :mod:`~studio.assembly.render` — the sequence rendered with MoviePy 2 into an MP4 (I/O).

From Python: ``project.sequence()`` and ``project.export_edl()``.
"""
