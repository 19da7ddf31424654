"""What a request may carry, checked in one place before any route runs, so a bad value is a 422 with one
line naming the field, never a 500.

Ids and offsets must fit SQLite's INTEGER (64-bit) and not be negative (nothing has a negative id); seeds
fit the generators' random generator (0..2^32-1); fractions and seconds are finite; texts are bounded.
JSON bodies are strict: a number where text belongs, text or true where a number belongs, 1.5 where a
whole number belongs, or a field the route does not know is refused, not converted or ignored.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field

from asmr_platform.params import ServeParams

SQLITE_INT_MAX = 2**63 - 1
SEED_MAX = 2**32 - 1
MAX_TEXT = 200
MAX_LABELS = 100  # labels ticked at once; a catalogue holds a handful

Int64 = Annotated[int, Field(ge=0, le=SQLITE_INT_MAX)]  # an id or an offset
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]
Fraction = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Seconds = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
Text = Annotated[str, Field(max_length=MAX_TEXT)]
FileName = Annotated[str, Field(min_length=1, max_length=255)]  # an upload's, as the client names it
Token = Annotated[str, Field(pattern=r"^[0-9a-f]{16}$")]  # a generated result's
Digest = Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]  # an upload's sha256


def between(low: int, high: int):
    """A whole number in low..high (a count bounded by the server's limits)."""
    return Annotated[int, Field(ge=low, le=high)]


class Body(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


@dataclass(frozen=True)
class Bodies:
    """The JSON bodies of the generate routes, bounded by this app's limits."""

    vary: type[Body]
    blend: type[Body]
    sample: type[Body]


def bodies(params: ServeParams) -> Bodies:
    variations, samples = between(1, params.max_variations), between(1, params.max_samples)

    class VaryIn(Body):
        segment: Int64
        n: variations = 3
        seed: Seed = 0

    class BlendIn(Body):
        a: Int64
        b: Int64
        alpha: Fraction = 0.5

    class SampleIn(Body):
        label: Text
        blend_with: Text | None = None
        n: samples = 3
        seed: Seed = 0

    return Bodies(VaryIn, BlendIn, SampleIn)


def one_line(err: RequestValidationError) -> str:
    """Each problem as `field: reason`, joined: no echo of the input (a NaN or a megabyte of it)."""
    return "; ".join(_problem(e) for e in err.errors())


def _problem(error: dict) -> str:
    loc = [str(part) for part in error.get("loc", ())]
    if error.get("type") == "json_invalid":
        return f"body: not valid JSON ({error.get('ctx', {}).get('error', 'cannot parse')})"
    return f"{'.'.join(loc[1:] or loc) or 'request'}: {error.get('msg', 'invalid')}"
