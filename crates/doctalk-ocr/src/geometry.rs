//! Plane geometry for the detector's post-processing: connected regions of a bitmap, their
//! convex hulls and smallest enclosing rotated rectangles, a polygon's mean over a score map, and
//! the outward offset ("unclip") that turns a shrunk text kernel back into a text line.

/// A point in pixels.
pub type Point = [f64; 2];

/// The pixels of each 8-connected region of `mask` (row-major, `width` wide) that lie on the
/// region's border, region by region. Interior pixels cannot change a convex hull, so they are left
/// out. Regions are found in row-major order of their first pixel.
pub fn region_borders(mask: &[bool], width: usize, height: usize) -> Vec<Vec<Point>> {
    let mut label = vec![false; mask.len()];
    let mut regions = Vec::new();
    let mut stack = Vec::new();
    let inside = |x: isize, y: isize| -> bool {
        x >= 0
            && y >= 0
            && (x as usize) < width
            && (y as usize) < height
            && mask[y as usize * width + x as usize]
    };
    for start in 0..mask.len() {
        if !mask[start] || label[start] {
            continue;
        }
        label[start] = true;
        stack.push(start);
        let mut border = Vec::new();
        while let Some(i) = stack.pop() {
            let (x, y) = ((i % width) as isize, (i / width) as isize);
            let on_border = !(inside(x - 1, y) && inside(x + 1, y) && inside(x, y - 1) && inside(x, y + 1));
            if on_border {
                border.push([x as f64, y as f64]);
            }
            for dy in -1..=1 {
                for dx in -1..=1 {
                    let (nx, ny) = (x + dx, y + dy);
                    if (dx, dy) != (0, 0) && inside(nx, ny) {
                        let j = ny as usize * width + nx as usize;
                        if !label[j] {
                            label[j] = true;
                            stack.push(j);
                        }
                    }
                }
            }
        }
        regions.push(border);
    }
    regions
}

/// The convex hull, counter-clockwise, without collinear points (Andrew's monotone chain).
pub fn convex_hull(points: &[Point]) -> Vec<Point> {
    let mut pts = points.to_vec();
    pts.sort_by(|a, b| a[0].total_cmp(&b[0]).then(a[1].total_cmp(&b[1])));
    pts.dedup();
    if pts.len() < 3 {
        return pts;
    }
    let cross = |o: Point, a: Point, b: Point| (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);
    let mut hull: Vec<Point> = Vec::with_capacity(pts.len() * 2);
    for &p in pts.iter().chain(pts.iter().rev().skip(1)) {
        while hull.len() >= 2 && cross(hull[hull.len() - 2], hull[hull.len() - 1], p) <= 0.0 {
            hull.pop();
        }
        hull.push(p);
    }
    hull.pop();
    hull
}

/// The smallest-area rectangle around `points` (rotating calipers over the hull's edges): its four
/// corners and its shorter side.
pub fn min_area_rect(points: &[Point]) -> ([Point; 4], f64) {
    let hull = convex_hull(points);
    match hull.len() {
        0 => return ([[0.0; 2]; 4], 0.0),
        1 => return ([hull[0]; 4], 0.0),
        _ => {}
    }
    let mut best: Option<(f64, [Point; 4], f64)> = None;
    for i in 0..hull.len() {
        let (a, b) = (hull[i], hull[(i + 1) % hull.len()]);
        let len = ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
        if len == 0.0 {
            continue;
        }
        let u = [(b[0] - a[0]) / len, (b[1] - a[1]) / len];
        let v = [-u[1], u[0]];
        let (mut umin, mut umax, mut vmin, mut vmax) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for p in &hull {
            let pu = p[0] * u[0] + p[1] * u[1];
            let pv = p[0] * v[0] + p[1] * v[1];
            umin = umin.min(pu);
            umax = umax.max(pu);
            vmin = vmin.min(pv);
            vmax = vmax.max(pv);
        }
        let area = (umax - umin) * (vmax - vmin);
        if best.as_ref().is_none_or(|(a, _, _)| area < *a - 1e-9) {
            let at = |pu: f64, pv: f64| [pu * u[0] + pv * v[0], pu * u[1] + pv * v[1]];
            let corners = [at(umin, vmin), at(umax, vmin), at(umax, vmax), at(umin, vmax)];
            best = Some((area, corners, (umax - umin).min(vmax - vmin)));
        }
    }
    best.map(|(_, c, s)| (c, s)).unwrap_or(([hull[0]; 4], 0.0))
}

/// Corners in the order the detector's post-processing uses (PaddleOCR's `get_mini_boxes`): sorted
/// by x, the left pair and the right pair each split by y, then top-left, top-right, bottom-right,
/// bottom-left.
pub fn mini_box_order(corners: [Point; 4]) -> [Point; 4] {
    let mut p = corners;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (i1, i4) = if p[1][1] > p[0][1] { (0, 1) } else { (1, 0) };
    let (i2, i3) = if p[3][1] > p[2][1] { (2, 3) } else { (3, 2) };
    [p[i1], p[i2], p[i3], p[i4]]
}

/// Top-left, top-right, bottom-right, bottom-left: the left pair and right pair by x, each split by y.
pub fn clockwise_order(corners: [Point; 4]) -> [Point; 4] {
    let mut p = corners;
    p.sort_by(|a, b| a[0].total_cmp(&b[0]));
    let (mut left, mut right) = ([p[0], p[1]], [p[2], p[3]]);
    left.sort_by(|a, b| a[1].total_cmp(&b[1]));
    right.sort_by(|a, b| a[1].total_cmp(&b[1]));
    [left[0], right[0], right[1], left[1]]
}

/// Area (absolute) and perimeter of a polygon.
pub fn area_and_perimeter(poly: &[Point]) -> (f64, f64) {
    let n = poly.len();
    let (mut twice_area, mut perimeter) = (0.0, 0.0);
    for i in 0..n {
        let (a, b) = (poly[i], poly[(i + 1) % n]);
        twice_area += a[0] * b[1] - b[0] * a[1];
        perimeter += ((b[0] - a[0]).powi(2) + (b[1] - a[1]).powi(2)).sqrt();
    }
    (twice_area.abs() / 2.0, perimeter)
}

/// The polygon grown outward by `distance` with round corners, as points on its outline: the
/// Minkowski sum of a convex polygon with a disc is the hull of discs at its corners. The input
/// corners are first cut to whole pixels, as the polygon clipper PaddleOCR uses does.
pub fn offset_outline(poly: &[Point], distance: f64) -> Vec<Point> {
    const STEPS: usize = 64;
    let mut out = Vec::with_capacity(poly.len() * STEPS);
    for p in poly {
        let (x, y) = (p[0].trunc(), p[1].trunc());
        for k in 0..STEPS {
            let a = k as f64 * std::f64::consts::TAU / STEPS as f64;
            out.push([x + distance * a.cos(), y + distance * a.sin()]);
        }
    }
    out
}

/// Mean of `map` (row-major, `width` wide) over the pixels whose centres lie in the convex polygon
/// `poly` (corners cut to whole pixels, edges included), within its clipped bounding box.
pub fn mean_inside(map: &[f32], width: usize, height: usize, poly: &[Point; 4]) -> f32 {
    let clip = |v: f64, max: usize| v.clamp(0.0, (max - 1) as f64) as usize;
    let xmin = clip(poly.iter().map(|p| p[0]).fold(f64::MAX, f64::min).floor(), width);
    let xmax = clip(poly.iter().map(|p| p[0]).fold(f64::MIN, f64::max).ceil(), width);
    let ymin = clip(poly.iter().map(|p| p[1]).fold(f64::MAX, f64::min).floor(), height);
    let ymax = clip(poly.iter().map(|p| p[1]).fold(f64::MIN, f64::max).ceil(), height);
    let corners: Vec<Point> = poly.iter().map(|p| [p[0].trunc(), p[1].trunc()]).collect();
    let (mut sum, mut n) = (0.0f64, 0usize);
    for y in ymin..=ymax {
        for x in xmin..=xmax {
            if inside_convex(&corners, [x as f64, y as f64]) {
                sum += f64::from(map[y * width + x]);
                n += 1;
            }
        }
    }
    if n == 0 {
        0.0
    } else {
        (sum / n as f64) as f32
    }
}

fn inside_convex(poly: &[Point], p: Point) -> bool {
    let (mut pos, mut neg) = (false, false);
    for i in 0..poly.len() {
        let (a, b) = (poly[i], poly[(i + 1) % poly.len()]);
        let c = (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0]);
        if c > 1e-9 {
            pos = true;
        } else if c < -1e-9 {
            neg = true;
        }
        if pos && neg {
            return false;
        }
    }
    true
}

/// Intersection over union of two convex quadrilaterals, by rasterising both on a fine grid over
/// their joint bounding box (exact enough to compare detectors).
pub fn quad_iou(a: &[Point; 4], b: &[Point; 4]) -> f64 {
    let all = a.iter().chain(b.iter());
    let xmin = all.clone().map(|p| p[0]).fold(f64::MAX, f64::min);
    let xmax = all.clone().map(|p| p[0]).fold(f64::MIN, f64::max);
    let ymin = all.clone().map(|p| p[1]).fold(f64::MAX, f64::min);
    let ymax = all.map(|p| p[1]).fold(f64::MIN, f64::max);
    let steps = 200.0;
    let (dx, dy) = ((xmax - xmin) / steps, (ymax - ymin) / steps);
    if dx <= 0.0 || dy <= 0.0 {
        return 0.0;
    }
    let (mut inter, mut union) = (0usize, 0usize);
    for j in 0..200 {
        for i in 0..200 {
            let p = [xmin + (i as f64 + 0.5) * dx, ymin + (j as f64 + 0.5) * dy];
            let (ia, ib) = (inside_convex(a, p), inside_convex(b, p));
            inter += usize::from(ia && ib);
            union += usize::from(ia || ib);
        }
    }
    if union == 0 {
        0.0
    } else {
        inter as f64 / union as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_blobs_make_two_regions_and_diagonal_pixels_join() {
        #[rustfmt::skip]
        let mask = [
            true,  true,  false, false, false,
            true,  true,  false, false, true,
            false, false, true,  false, true,
        ].to_vec();
        let regions = region_borders(&mask, 5, 3);
        assert_eq!(regions.len(), 2);
        assert_eq!(regions[0].len(), 5);
        assert_eq!(regions[1].len(), 2);
    }

    #[test]
    fn the_smallest_rectangle_of_a_rotated_square_is_the_square() {
        let diamond = [[5.0, 0.0], [10.0, 5.0], [5.0, 10.0], [0.0, 5.0], [5.0, 5.0]];
        let (corners, short) = min_area_rect(&diamond);
        assert!((short - 50f64.sqrt()).abs() < 1e-9, "{short}");
        let (area, _) = area_and_perimeter(&corners);
        assert!((area - 50.0).abs() < 1e-6);
    }

    #[test]
    fn an_axis_aligned_bar_keeps_its_extent() {
        let pts: Vec<Point> = (0..=20)
            .flat_map(|x| [[x as f64, 3.0], [x as f64, 7.0]])
            .collect();
        let (corners, short) = min_area_rect(&pts);
        assert!((short - 4.0).abs() < 1e-9);
        let ordered = mini_box_order(corners);
        assert!(
            (ordered[0][0] - 0.0).abs() < 1e-9 && (ordered[0][1] - 3.0).abs() < 1e-9,
            "{ordered:?}"
        );
        assert!((ordered[2][0] - 20.0).abs() < 1e-9 && (ordered[2][1] - 7.0).abs() < 1e-9);
    }

    #[test]
    fn unclipping_a_rectangle_grows_each_side_by_the_distance() {
        let rect = [[10.0, 10.0], [50.0, 10.0], [50.0, 20.0], [10.0, 20.0]];
        let (corners, short) = min_area_rect(&offset_outline(&rect, 3.0));
        assert!((short - 16.0).abs() < 0.05, "{short}");
        let (area, _) = area_and_perimeter(&corners);
        assert!((area - 46.0 * 16.0).abs() < 2.0, "{area}");
    }

    #[test]
    fn means_and_overlaps() {
        let map = vec![1.0f32; 100];
        let quad = [[1.0, 1.0], [5.0, 1.0], [5.0, 4.0], [1.0, 4.0]];
        assert_eq!(mean_inside(&map, 10, 10, &quad), 1.0);
        assert!((quad_iou(&quad, &quad) - 1.0).abs() < 1e-9);
        let half = [[3.0, 1.0], [5.0, 1.0], [5.0, 4.0], [3.0, 4.0]];
        assert!((quad_iou(&quad, &half) - 0.5).abs() < 0.02);
    }
}
