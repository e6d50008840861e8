//! NumPy input: a `.npy` matrix whose target is one of its columns, or a `.npz` archive with a
//! feature matrix `x` and a target vector. The `.npy` format (magic, version, a header dict of
//! `descr`, `fortran_order` and `shape`, then raw values) is parsed here; it is small. Not by a
//! crate: npyz 0.8.4 rejects the header of an unsupported dtype such as `|O` without naming the
//! dtype and multiplies the shape unchecked (a panic in debug builds on a hostile header);
//! ndarray-npy 0.9 (for ndarray 0.16) reads one element type fixed at compile time, the whole
//! array at once, and keeps its header parser private.

use super::Values;
use super::table::{Origin, Place, Table, Task, finite, target_index};
use crate::{Error, Result};
use std::cmp::Ordering;
use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// Largest header accepted (numpy writes a few hundred bytes).
const MAX_HEADER: usize = 1 << 20;

/// Values read per call of the reader.
const BLOCK: usize = 1 << 16;

impl Table {
    /// Reads the 2-D `.npy` array `path`; `target` is a column name or a column index
    /// (negative counts from the end). Column names come from `names` (one per column), else
    /// they are `x0`, `x1`, ... Every value must be finite. Errors name the file, the 0-based
    /// row and the column.
    pub fn from_npy(
        path: impl AsRef<Path>,
        target: &str,
        task: Task,
        names: Option<Vec<String>>,
    ) -> Result<Table> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
        read_npy_table(path, BufReader::new(file), Some(len), target, task, names)
    }

    /// Parses `.npy` bytes as [`Table::from_npy`] does; `path` is used in errors only.
    pub fn from_npy_bytes(
        path: &Path,
        bytes: &[u8],
        target: &str,
        task: Task,
        names: Option<Vec<String>>,
    ) -> Result<Table> {
        read_npy_table(path, bytes, Some(bytes.len() as u64), target, task, names)
    }

    /// Reads the `.npz` archive `path`: the 2-D array `x` holds the features, the 1-D array
    /// named `target` (for example `y`) the target. Feature names are `names` (one per column
    /// of `x`), else `x0`, `x1`, ...
    pub fn from_npz(
        path: impl AsRef<Path>,
        target: &str,
        task: Task,
        names: Option<Vec<String>>,
    ) -> Result<Table> {
        let path = path.as_ref();
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        read_npz_table(path, BufReader::new(file), target, task, names)
    }

    /// Parses `.npz` bytes as [`Table::from_npz`] does; `path` is used in errors only.
    pub fn from_npz_bytes(
        path: &Path,
        bytes: &[u8],
        target: &str,
        task: Task,
        names: Option<Vec<String>>,
    ) -> Result<Table> {
        read_npz_table(path, std::io::Cursor::new(bytes), target, task, names)
    }
}

/// Reads a names file: one name per line (a final newline is allowed).
pub fn read_names(path: &Path) -> Result<Vec<String>> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let text = text.strip_suffix('\n').unwrap_or(&text);
    Ok(text.split('\n').map(|l| l.trim().to_string()).collect())
}

fn read_npy_table<R: Read>(
    path: &Path,
    mut source: R,
    len: Option<u64>,
    target: &str,
    task: Task,
    names: Option<Vec<String>>,
) -> Result<Table> {
    let header = Header::read(&mut source).map_err(|r| Error::data(path, None, None, r))?;
    let [n, cols] = header
        .matrix()
        .map_err(|r| Error::data(path, None, None, r))?;
    header
        .check_len(len, n, cols)
        .map_err(|r| Error::data(path, None, None, r))?;
    let names = column_names(path, names, cols)?;
    let name = match names.iter().find(|n| *n == target) {
        Some(name) => name.clone(),
        None => names[column_index(target, cols).ok_or_else(|| {
            Error::data(
                path,
                None,
                Some(target),
                format!(
                    "no column named `{target}`; give the target as a column index (0 to {}, \
                     negative from the end) or a name from the names file",
                    cols - 1
                ),
            )
        })?]
        .clone(),
    };
    let t = target_index(path, &names, &name, None)?;
    let d = cols - 1;
    let mut x = zero_values(path, n * d, header.is_f32())?;
    let mut y = zeros(path, n)?;
    header.values(path, &mut source, n, cols, &names, |i, j, v| {
        match j.cmp(&t) {
            Ordering::Less => x.set(i * d + j, v),
            Ordering::Equal => y[i] = v,
            Ordering::Greater => x.set(i * d + j - 1, v),
        }
    })?;
    Table::assemble(Origin::File(path), &names, t, x, y, task, Place::Row)
}

fn read_npz_table<R: Read + Seek>(
    path: &Path,
    source: R,
    target: &str,
    task: Task,
    names: Option<Vec<String>>,
) -> Result<Table> {
    let fail = |column: Option<&str>, reason: String| Error::data(path, None, column, reason);
    let mut archive = zip::ZipArchive::new(source)
        .map_err(|e| fail(None, format!("not a readable .npz (zip) archive: {e}")))?;
    let arrays: Vec<String> = archive
        .file_names()
        .map(|f| f.map(|f| f.trim_end_matches(".npy").to_string()))
        .collect::<std::result::Result<_, _>>()
        .map_err(|e| fail(None, format!("cannot list the arrays: {e}")))?;
    let missing = |array: &str, e: zip::result::ZipError| {
        let listed = arrays.join(", ");
        fail(None, format!("array `{array}`: {e} (arrays: {listed})"))
    };
    let (n, cols, x, features) = {
        let mut entry = archive.by_name("x.npy").map_err(|e| missing("x", e))?;
        let header = Header::read(&mut entry).map_err(|r| fail(Some("x"), r))?;
        let [n, cols] = header.matrix().map_err(|r| fail(Some("x"), r))?;
        header
            .check_len(Some(entry.size()), n, cols)
            .map_err(|r| fail(Some("x"), r))?;
        let features = column_names(path, names, cols)?;
        let mut x = zero_values(path, n * cols, header.is_f32())?;
        header.values(path, &mut entry, n, cols, &features, |i, j, v| {
            x.set(i * cols + j, v)
        })?;
        (n, cols, x, features)
    };
    let entry = archive
        .by_name(&format!("{target}.npy"))
        .map_err(|e| missing(target, e))?;
    let size = entry.size();
    let y = target_array(path, entry, size, target, n)?;
    let mut names = features;
    names.push(target.to_string());
    let t = target_index(path, &names, target, None)?;
    debug_assert_eq!(t, cols);
    Table::assemble(Origin::File(path), &names, t, x, y, task, Place::Row)
}

/// The 1-D array `target` of a `.npz` archive (its entry, of `size` bytes), which must hold `n`
/// finite values.
fn target_array(
    path: &Path,
    mut entry: impl Read,
    size: u64,
    target: &str,
    n: usize,
) -> Result<Vec<f64>> {
    let fail = |reason: String| Error::data(path, None, Some(target), reason);
    let header = Header::read(&mut entry).map_err(fail)?;
    let m = header.vector().map_err(fail)?;
    if m != n {
        return Err(fail(format!("{m} target values for {n} rows of `x`")));
    }
    header.check_len(Some(size), n, 1).map_err(fail)?;
    let mut y = zeros(path, n)?;
    let target_name = [target.to_string()];
    header.values(path, &mut entry, n, 1, &target_name, |i, _, v| y[i] = v)?;
    Ok(y)
}

/// `len` zero feature values, `f32` when the array is, or an error when memory for them cannot
/// be had (see [`zeros`]).
fn zero_values(path: &Path, len: usize, single: bool) -> Result<Values> {
    Values::try_zeros(len, single).ok_or_else(|| {
        Error::data(
            path,
            None,
            None,
            format!("{len} values do not fit in memory"),
        )
    })
}

/// `len` zeros, or an error when memory for them cannot be had. Callers have checked `len`
/// against the size of the data, so it is not a claim of a header alone.
fn zeros(path: &Path, len: usize) -> Result<Vec<f64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).map_err(|e| {
        Error::data(
            path,
            None,
            None,
            format!("{len} values do not fit in memory: {e}"),
        )
    })?;
    v.resize(len, 0.0);
    Ok(v)
}

/// The given names, checked against the column count, or `x0`, `x1`, ...
fn column_names(path: &Path, names: Option<Vec<String>>, cols: usize) -> Result<Vec<String>> {
    match names {
        None => Ok((0..cols).map(|j| format!("x{j}")).collect()),
        Some(names) if names.len() == cols => Ok(names),
        Some(names) => Err(Error::data(
            path,
            None,
            None,
            format!(
                "{} feature names for {cols} columns; the names file needs one name per line \
                 for every column",
                names.len()
            ),
        )),
    }
}

/// `s` as a column index below `cols`, negative counting from the end.
fn column_index(s: &str, cols: usize) -> Option<usize> {
    let i: i64 = s.trim().parse().ok()?;
    let cols = i64::try_from(cols).ok()?;
    let i = if i < 0 { cols + i } else { i };
    (0..cols).contains(&i).then_some(i as usize)
}

/// The number type of the values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Int,
    Unsigned,
    Bool,
}

/// A parsed `.npy` header.
#[derive(Debug)]
struct Header {
    descr: String,
    kind: Kind,
    size: usize,
    big_endian: bool,
    shape: Vec<usize>,
    /// Column-major values (what `np.save` writes for a pandas `to_numpy()`).
    fortran: bool,
    /// Bytes before the values: magic, version, length and header text.
    offset: u64,
}

impl Header {
    /// Whether the array holds float32 values (the table then keeps them as `f32`).
    fn is_f32(&self) -> bool {
        self.kind == Kind::Float && self.size == 4
    }

    /// Reads the header from the start of `r`; the reason it is not a usable header otherwise.
    fn read<R: Read>(r: &mut R) -> std::result::Result<Header, String> {
        let mut start = [0u8; 8];
        r.read_exact(&mut start)
            .map_err(|_| "too short for a .npy header (truncated file?)".to_string())?;
        if &start[..6] != b"\x93NUMPY" {
            return Err("not a .npy array (bad magic bytes)".into());
        }
        let (len, prefix) = match start[6] {
            1 => {
                let mut b = [0u8; 2];
                r.read_exact(&mut b)
                    .map_err(|_| "truncated .npy header".to_string())?;
                (u16::from_le_bytes(b) as usize, 10)
            }
            2 | 3 => {
                let mut b = [0u8; 4];
                r.read_exact(&mut b)
                    .map_err(|_| "truncated .npy header".to_string())?;
                (u32::from_le_bytes(b) as usize, 12)
            }
            v => return Err(format!(".npy format version {v} is not supported")),
        };
        if len > MAX_HEADER {
            return Err(format!(".npy header of {len} bytes is too long"));
        }
        let mut text = vec![0u8; len];
        r.read_exact(&mut text)
            .map_err(|_| "truncated .npy header".to_string())?;
        let text =
            String::from_utf8(text).map_err(|_| "the .npy header is not text".to_string())?;
        let dict =
            parse_dict(&text).map_err(|r| format!("bad .npy header `{}`: {r}", text.trim()))?;
        let get = |key: &str| {
            dict.iter()
                .find(|(k, _)| k == key)
                .map(|(_, v)| v)
                .ok_or_else(|| format!("the .npy header has no `{key}`"))
        };
        let Lit::Str(descr) = get("descr")? else {
            return Err("structured arrays are not supported; save a plain number array".into());
        };
        let Lit::Bool(fortran) = get("fortran_order")? else {
            return Err("`fortran_order` is not True or False".into());
        };
        let Lit::Tuple(shape) = get("shape")? else {
            return Err("`shape` is not a tuple".into());
        };
        let (kind, size, big_endian) = dtype(descr).ok_or_else(|| {
            format!(
                "dtype `{descr}` is not supported; expected floats (f4, f8), integers or booleans"
            )
        })?;
        Ok(Header {
            descr: descr.clone(),
            kind,
            size,
            big_endian,
            shape: shape.clone(),
            fortran: *fortran,
            offset: (prefix + len) as u64,
        })
    }

    /// Rows and columns of a 2-D array with at least one column.
    fn matrix(&self) -> std::result::Result<[usize; 2], String> {
        match self.shape[..] {
            [n, d] if d > 0 => Ok([n, d]),
            _ => Err(format!(
                "shape {:?} is not a 2-D matrix with columns",
                self.shape
            )),
        }
    }

    /// Length of a 1-D array (or of a one-column matrix).
    fn vector(&self) -> std::result::Result<usize, String> {
        match self.shape[..] {
            [n] | [n, 1] => Ok(n),
            _ => Err(format!("shape {:?} is not 1-D", self.shape)),
        }
    }

    /// Checks that a stream of `len` bytes holds exactly `n x cols` values after the header.
    fn check_len(
        &self,
        len: Option<u64>,
        n: usize,
        cols: usize,
    ) -> std::result::Result<(), String> {
        let Some(len) = len else { return Ok(()) };
        let need = (n as u64)
            .checked_mul(cols as u64)
            .and_then(|v| v.checked_mul(self.size as u64))
            .ok_or_else(|| format!("shape {:?} is too large", self.shape))?;
        let have = len.saturating_sub(self.offset);
        if have < need {
            Err(format!(
                "truncated: shape {:?} of {} needs {need} bytes of values, the file has {have}",
                self.shape, self.descr
            ))
        } else if have > need {
            Err(format!(
                "{} bytes after the {need} bytes of values of shape {:?}",
                have - need,
                self.shape
            ))
        } else {
            Ok(())
        }
    }

    /// Reads the `n x cols` values from `r` (positioned after the header) in file order, row-
    /// or column-major, handing each finite value to `put(row, column, value)`. Errors name the
    /// row and column.
    fn values<R: Read>(
        &self,
        path: &Path,
        r: &mut R,
        n: usize,
        cols: usize,
        names: &[String],
        mut put: impl FnMut(usize, usize, f64),
    ) -> Result<()> {
        let total = n
            .checked_mul(cols)
            .ok_or_else(|| Error::data(path, None, None, "the array is too large"))?;
        let place = |k: usize| {
            if self.fortran {
                (k % n, k / n)
            } else {
                (k / cols, k % cols)
            }
        };
        let mut buf = vec![0u8; BLOCK.min(total.max(1)) * self.size];
        let mut k = 0;
        while k < total {
            let want = (total - k).min(BLOCK) * self.size;
            let got = fill(r, &mut buf[..want]).map_err(|e| {
                let (i, j) = place(k);
                Place::Row(i).error(path, Some(&names[j]), format!("cannot read: {e}"))
            })?;
            for bytes in buf[..got].chunks_exact(self.size) {
                let (i, j) = place(k);
                let v = finite(self.decode(bytes))
                    .map_err(|reason| Place::Row(i).error(path, Some(&names[j]), reason))?;
                put(i, j, v);
                k += 1;
            }
            if got < want {
                let (i, j) = place(k);
                return Err(Place::Row(i).error(
                    path,
                    Some(&names[j]),
                    format!("truncated: the values of shape {:?} end here", self.shape),
                ));
            }
        }
        let mut extra = [0u8; 1];
        match r.read(&mut extra) {
            Ok(0) => Ok(()),
            Ok(_) => Err(Error::data(
                path,
                None,
                None,
                format!(
                    "the values go on after the {total} of shape {:?}",
                    self.shape
                ),
            )),
            Err(e) => Err(Error::data(path, None, None, e.to_string())),
        }
    }

    /// One value from its `size` bytes.
    fn decode(&self, b: &[u8]) -> f64 {
        let mut a = [0u8; 8];
        if self.big_endian {
            a[8 - self.size..].copy_from_slice(b);
        } else {
            a[..self.size].copy_from_slice(b);
        }
        let bits = if self.big_endian {
            u64::from_be_bytes(a)
        } else {
            u64::from_le_bytes(a)
        };
        let shift = 64 - 8 * self.size as u32;
        match (self.kind, self.size) {
            (Kind::Float, 4) => f64::from(f32::from_bits(bits as u32)),
            (Kind::Float, _) => f64::from_bits(bits),
            (Kind::Int, _) => (((bits << shift) as i64) >> shift) as f64,
            (Kind::Unsigned, _) => bits as f64,
            (Kind::Bool, _) => f64::from(u8::from(bits != 0)),
        }
    }
}

/// Kind, size in bytes and byte order of a dtype string like `<f8`, `|u1` or `>i4`.
fn dtype(descr: &str) -> Option<(Kind, usize, bool)> {
    let mut chars = descr.chars();
    let order = chars.next()?;
    let big_endian = match order {
        '<' | '|' => false,
        '>' => true,
        '=' => cfg!(target_endian = "big"),
        _ => return None,
    };
    let kind = match chars.next()? {
        'f' => Kind::Float,
        'i' => Kind::Int,
        'u' => Kind::Unsigned,
        'b' => Kind::Bool,
        _ => return None,
    };
    let size: usize = chars.as_str().parse().ok()?;
    let ok = match kind {
        Kind::Float => matches!(size, 4 | 8),
        Kind::Int | Kind::Unsigned => matches!(size, 1 | 2 | 4 | 8),
        Kind::Bool => size == 1,
    };
    ok.then_some((kind, size, big_endian))
}

/// A value of the header dict.
#[derive(Debug)]
enum Lit {
    Str(String),
    Bool(bool),
    Tuple(Vec<usize>),
    /// Anything else (a list for structured dtypes, a number).
    Other,
}

/// Parses the Python dict literal of a `.npy` header into its keys and values.
fn parse_dict(text: &str) -> std::result::Result<Vec<(String, Lit)>, String> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
    };
    p.expect(b'{')?;
    let mut out = Vec::new();
    loop {
        if p.eat(b'}') {
            break;
        }
        let Lit::Str(key) = p.value()? else {
            return Err("a key is not a string".into());
        };
        p.expect(b':')?;
        let value = p.value()?;
        out.push((key, value));
        if !p.eat(b',') {
            p.expect(b'}')?;
            break;
        }
    }
    Ok(out)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn skip(&mut self) {
        while self.s.get(self.i).is_some_and(u8::is_ascii_whitespace) {
            self.i += 1;
        }
    }

    fn eat(&mut self, c: u8) -> bool {
        self.skip();
        let hit = self.s.get(self.i) == Some(&c);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn expect(&mut self, c: u8) -> std::result::Result<(), String> {
        if self.eat(c) {
            Ok(())
        } else {
            Err(format!("expected `{}` at byte {}", c as char, self.i))
        }
    }

    fn value(&mut self) -> std::result::Result<Lit, String> {
        self.skip();
        match self.s.get(self.i) {
            Some(&q @ (b'\'' | b'"')) => {
                let start = self.i + 1;
                let len = self.s[start..]
                    .iter()
                    .position(|&c| c == q)
                    .ok_or("a string does not end")?;
                self.i = start + len + 1;
                Ok(Lit::Str(
                    String::from_utf8_lossy(&self.s[start..start + len]).into_owned(),
                ))
            }
            Some(b'(') => {
                self.i += 1;
                let mut dims = Vec::new();
                loop {
                    if self.eat(b')') {
                        break;
                    }
                    dims.push(self.number()?);
                    if !self.eat(b',') {
                        self.expect(b')')?;
                        break;
                    }
                }
                Ok(Lit::Tuple(dims))
            }
            Some(b'[') => {
                // Skipped, brackets balanced: only structured dtypes use lists.
                let mut depth = 0usize;
                while let Some(&c) = self.s.get(self.i) {
                    self.i += 1;
                    match c {
                        b'[' | b'(' => depth += 1,
                        b']' | b')' => {
                            depth = depth.saturating_sub(1);
                            if depth == 0 {
                                return Ok(Lit::Other);
                            }
                        }
                        _ => {}
                    }
                }
                Err("a list does not end".into())
            }
            _ if self.s[self.i..].starts_with(b"True") => {
                self.i += 4;
                Ok(Lit::Bool(true))
            }
            _ if self.s[self.i..].starts_with(b"False") => {
                self.i += 5;
                Ok(Lit::Bool(false))
            }
            Some(c) if c.is_ascii_digit() || *c == b'-' => {
                self.number()?;
                Ok(Lit::Other)
            }
            _ => Err(format!("unexpected text at byte {}", self.i)),
        }
    }

    /// A non-negative integer (a dimension).
    fn number(&mut self) -> std::result::Result<usize, String> {
        self.skip();
        let start = self.i;
        while self.s.get(self.i).is_some_and(u8::is_ascii_digit) {
            self.i += 1;
        }
        std::str::from_utf8(&self.s[start..self.i])
            .ok()
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| format!("expected a dimension at byte {start}"))
    }
}

/// Reads into `buf` until it is full or the data ends; the number of bytes read.
fn fill<R: Read>(r: &mut R, buf: &mut [u8]) -> std::io::Result<usize> {
    let mut got = 0;
    while got < buf.len() {
        match r.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(k) => got += k,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(got)
}

/// Every column of the `.npy` matrix `path` with its name (from `names`, else `x0`, `x1`, ...),
/// row-major, and the number of rows: the frame a fitted model picks its columns from.
pub(crate) fn npy_frame(
    path: &Path,
    names: Option<Vec<String>>,
) -> Result<(Vec<String>, Vec<f64>, usize)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = file.metadata().map_err(|e| Error::io(path, e))?.len();
    let mut source = BufReader::new(file);
    let fail = |r: String| Error::data(path, None, None, r);
    let header = Header::read(&mut source).map_err(fail)?;
    let [n, cols] = header.matrix().map_err(fail)?;
    header.check_len(Some(len), n, cols).map_err(fail)?;
    let names = column_names(path, names, cols)?;
    let mut x = zeros(path, n * cols)?;
    header.values(path, &mut source, n, cols, &names, |i, j, v| {
        x[i * cols + j] = v
    })?;
    Ok((names, x, n))
}

/// The array `x` of the `.npz` archive `path` with its column names (from `names`, else `x0`,
/// `x1`, ...), and the 1-D array `target` as a last column of that name when the archive has
/// it; row-major, and the number of rows.
pub(crate) fn npz_frame(
    path: &Path,
    names: Option<Vec<String>>,
    target: &str,
) -> Result<(Vec<String>, Vec<f64>, usize)> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let fail = |column: Option<&str>, reason: String| Error::data(path, None, column, reason);
    let mut archive = zip::ZipArchive::new(BufReader::new(file))
        .map_err(|e| fail(None, format!("not a readable .npz (zip) archive: {e}")))?;
    let has_target = archive.index_for_name(&format!("{target}.npy")).is_some();
    let (n, cols, mut names, x) = {
        let mut entry = archive
            .by_name("x.npy")
            .map_err(|e| fail(None, format!("array `x`: {e}")))?;
        let header = Header::read(&mut entry).map_err(|r| fail(Some("x"), r))?;
        let [n, cols] = header.matrix().map_err(|r| fail(Some("x"), r))?;
        header
            .check_len(Some(entry.size()), n, cols)
            .map_err(|r| fail(Some("x"), r))?;
        let names = column_names(path, names, cols)?;
        let mut x = zeros(path, n * cols)?;
        header.values(path, &mut entry, n, cols, &names, |i, j, v| {
            x[i * cols + j] = v
        })?;
        (n, cols, names, x)
    };
    if !has_target {
        return Ok((names, x, n));
    }
    let entry = archive
        .by_name(&format!("{target}.npy"))
        .map_err(|e| fail(Some(target), e.to_string()))?;
    let size = entry.size();
    let y = target_array(path, entry, size, target, n)?;
    let mut frame = Vec::with_capacity(n * (cols + 1));
    for (row, t) in x.chunks(cols.max(1)).zip(&y) {
        frame.extend_from_slice(row);
        frame.push(*t);
    }
    names.push(target.to_string());
    Ok((names, frame, n))
}
