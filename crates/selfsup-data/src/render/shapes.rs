//! The primitives a scene is made of, and where a ray meets them.

use crate::render::Vec3;

/// Hits closer than this along a ray are ignored, so that a ray leaving a surface does not
/// meet that surface again.
pub const EPSILON: f32 = 1e-4;

/// A primitive in world coordinates (y up).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    /// A ball.
    Sphere {
        /// Its centre.
        center: Vec3,
        /// Its radius.
        radius: f32,
    },
    /// A box turned by `yaw` radians about the vertical axis through its centre.
    Cuboid {
        /// Its centre.
        center: Vec3,
        /// Half its extent along its own axes.
        half: Vec3,
        /// The turn about the vertical axis.
        yaw: f32,
    },
    /// An upright cylinder, capped at both ends.
    Cylinder {
        /// The centre of its axis.
        center: Vec3,
        /// Its radius.
        radius: f32,
        /// Half its height.
        half_height: f32,
    },
    /// A flat parallelogram `center + a u + b v` for `a, b` in `[-1, 1]`, seen from both sides
    /// (walls, floors, panels).
    Quad {
        /// Its centre.
        center: Vec3,
        /// Half of one edge.
        u: Vec3,
        /// Half of the other edge.
        v: Vec3,
    },
}

/// Where a ray met a shape.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Distance along the (unit) ray direction.
    pub t: f32,
    /// The unit surface normal, facing the ray's origin.
    pub normal: Vec3,
}

impl Shape {
    /// The nearest hit of the ray `origin + t dir` (`dir` of unit length) with `EPSILON < t <
    /// t_max`, if any.
    pub fn intersect(&self, origin: Vec3, dir: Vec3, t_max: f32) -> Option<Hit> {
        let hit = match *self {
            Shape::Sphere { center, radius } => sphere(origin - center, dir, radius),
            Shape::Cuboid { center, half, yaw } => {
                let (s, c) = yaw.sin_cos();
                // Into the box's frame (the inverse turn), and the normal back out.
                let local = |v: Vec3| Vec3::new(c * v.x - s * v.z, v.y, s * v.x + c * v.z);
                let world = |v: Vec3| Vec3::new(c * v.x + s * v.z, v.y, -s * v.x + c * v.z);
                cuboid(local(origin - center), local(dir), half).map(|h| Hit {
                    normal: world(h.normal),
                    ..h
                })
            }
            Shape::Cylinder {
                center,
                radius,
                half_height,
            } => cylinder(origin - center, dir, radius, half_height),
            Shape::Quad { center, u, v } => quad(origin - center, dir, u, v),
        }?;
        let facing = if hit.normal.dot(dir) > 0.0 {
            -hit.normal
        } else {
            hit.normal
        };
        (hit.t > EPSILON && hit.t < t_max).then_some(Hit {
            normal: facing,
            ..hit
        })
    }
}

/// The nearest of the candidate distances beyond `EPSILON`.
fn nearest(candidates: impl IntoIterator<Item = (f32, Vec3)>) -> Option<Hit> {
    candidates
        .into_iter()
        .filter(|(t, _)| *t > EPSILON && t.is_finite())
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(t, normal)| Hit { t, normal })
}

/// A sphere at the origin.
fn sphere(o: Vec3, d: Vec3, r: f32) -> Option<Hit> {
    let b = o.dot(d);
    let disc = b * b - (o.dot(o) - r * r);
    if disc < 0.0 {
        return None;
    }
    let root = disc.sqrt();
    nearest(
        [-b - root, -b + root]
            .into_iter()
            .map(|t| (t, (o + d * t) * (1.0 / r))),
    )
}

/// An axis-aligned box at the origin (the slab method).
fn cuboid(o: Vec3, d: Vec3, half: Vec3) -> Option<Hit> {
    let (o, d, h) = (o.to_array(), d.to_array(), half.to_array());
    let (mut near, mut far) = (f32::NEG_INFINITY, f32::INFINITY);
    let (mut near_axis, mut far_axis) = (0, 0);
    for a in 0..3 {
        if d[a].abs() < 1e-12 {
            if o[a].abs() > h[a] {
                return None;
            }
            continue;
        }
        let (t0, t1) = ((-h[a] - o[a]) / d[a], (h[a] - o[a]) / d[a]);
        let (t0, t1) = (t0.min(t1), t0.max(t1));
        if t0 > near {
            (near, near_axis) = (t0, a);
        }
        if t1 < far {
            (far, far_axis) = (t1, a);
        }
    }
    if near > far {
        return None;
    }
    let axis_normal = |a: usize, t: f32| {
        let mut n = [0.0; 3];
        n[a] = (o[a] + d[a] * t).signum();
        Vec3::new(n[0], n[1], n[2])
    };
    nearest([
        (near, axis_normal(near_axis, near)),
        (far, axis_normal(far_axis, far)),
    ])
}

/// An upright capped cylinder centred at the origin.
fn cylinder(o: Vec3, d: Vec3, r: f32, h: f32) -> Option<Hit> {
    let mut candidates = Vec::with_capacity(4);
    let a = d.x * d.x + d.z * d.z;
    if a > 1e-12 {
        let b = o.x * d.x + o.z * d.z;
        let disc = b * b - a * (o.x * o.x + o.z * o.z - r * r);
        if disc >= 0.0 {
            let root = disc.sqrt();
            for t in [(-b - root) / a, (-b + root) / a] {
                let p = o + d * t;
                if p.y.abs() <= h {
                    candidates.push((t, Vec3::new(p.x / r, 0.0, p.z / r)));
                }
            }
        }
    }
    if d.y.abs() > 1e-12 {
        for cap in [-h, h] {
            let t = (cap - o.y) / d.y;
            let p = o + d * t;
            if p.x * p.x + p.z * p.z <= r * r {
                candidates.push((t, Vec3::new(0.0, cap.signum(), 0.0)));
            }
        }
    }
    nearest(candidates)
}

/// A parallelogram centred at the origin.
fn quad(o: Vec3, d: Vec3, u: Vec3, v: Vec3) -> Option<Hit> {
    let n = u.cross(v).normalized();
    let denom = d.dot(n);
    if denom.abs() < 1e-12 {
        return None;
    }
    let t = -o.dot(n) / denom;
    let p = o + d * t;
    let inside = (p.dot(u) / u.dot(u)).abs() <= 1.0 && (p.dot(v) / v.dot(v)).abs() <= 1.0;
    if inside { nearest([(t, n)]) } else { None }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FORWARD: Vec3 = Vec3::new(0.0, 0.0, 1.0);

    fn hit(shape: Shape, origin: Vec3, dir: Vec3) -> Option<Hit> {
        shape.intersect(origin, dir.normalized(), f32::INFINITY)
    }

    #[test]
    fn every_shape_is_met_head_on_at_its_near_face() {
        let c = Vec3::new(0.0, 0.0, 5.0);
        let shapes = [
            Shape::Sphere {
                center: c,
                radius: 1.0,
            },
            Shape::Cuboid {
                center: c,
                half: Vec3::splat(1.0),
                yaw: 0.0,
            },
            Shape::Cylinder {
                center: c,
                radius: 1.0,
                half_height: 1.0,
            },
            Shape::Quad {
                center: c - FORWARD,
                u: Vec3::new(1.0, 0.0, 0.0),
                v: Vec3::new(0.0, 1.0, 0.0),
            },
        ];
        for shape in shapes {
            let h = hit(shape, Vec3::default(), FORWARD).expect("a hit");
            assert!((h.t - 4.0).abs() < 1e-5, "{shape:?}: {h:?}");
            assert!(
                (h.normal - Vec3::new(0.0, 0.0, -1.0)).length() < 1e-5,
                "{shape:?}"
            );
            // Aimed beside it: no hit.
            assert!(hit(shape, Vec3::new(3.0, 0.0, 0.0), FORWARD).is_none());
        }
    }

    #[test]
    fn a_turned_box_shows_its_corner() {
        // Turned 45 degrees, the unit box's near corner is sqrt(2) in front of its centre.
        let shape = Shape::Cuboid {
            center: Vec3::new(0.0, 0.0, 5.0),
            half: Vec3::splat(1.0),
            yaw: std::f32::consts::FRAC_PI_4,
        };
        let h = hit(shape, Vec3::new(0.0, 0.0, 0.0), FORWARD).unwrap();
        assert!((h.t - (5.0 - 2f32.sqrt())).abs() < 1e-4, "{h:?}");
        assert!((h.normal.length() - 1.0).abs() < 1e-5);
    }

    #[test]
    fn rays_from_inside_meet_the_far_side_and_normals_face_them() {
        let sphere = Shape::Sphere {
            center: Vec3::default(),
            radius: 2.0,
        };
        let h = hit(sphere, Vec3::default(), FORWARD).unwrap();
        assert!((h.t - 2.0).abs() < 1e-5);
        assert!(h.normal.dot(FORWARD) < 0.0, "facing the origin");
        let cylinder = Shape::Cylinder {
            center: Vec3::default(),
            radius: 1.0,
            half_height: 1.0,
        };
        let up = hit(cylinder, Vec3::default(), Vec3::new(0.0, 1.0, 0.0)).unwrap();
        assert!((up.t - 1.0).abs() < 1e-5, "the top cap");
        assert!(
            hit(sphere, Vec3::new(0.0, 0.0, 3.0), FORWARD).is_none(),
            "behind"
        );
    }
}
