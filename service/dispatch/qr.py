"""QR codes as inline SVG, drawn fast enough for a sheet of a thousand codes."""
import qrcode
from qrcode.constants import ERROR_CORRECT_M

# Trying all eight masks for the "best" one costs five times the rest of the
# work; any mask is valid and every reader handles it, so one is fixed.
MASK = 0


def qr_svg(data: str, border: int = 2) -> str:
    """An SVG element (one path, scalable) encoding `data`."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=border, mask_pattern=MASK)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    runs = []
    for y, row in enumerate(matrix):
        x, width = 0, len(row)
        while x < width:
            if not row[x]:
                x += 1
                continue
            start = x
            while x < width and row[x]:
                x += 1
            runs.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
    size = len(matrix)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" role="img">'
        f'<path fill="#000" d="{"".join(runs)}"/></svg>'
    )
