import os


def convert_to_png(filename):
    base, _ = os.path.splitext(filename)
    output = base + ".png"
    os.system(f"convert {filename} {output}")
    return output
