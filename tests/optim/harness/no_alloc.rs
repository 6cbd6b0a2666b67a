//! A step allocates nothing: a counting global allocator (the test binary's) sees no
//! allocation during any step of any optimizer variant on any back-end.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use crate::common::*;
use crate::registry::every_variant;

struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: forwards every call unchanged to the system allocator; only counts allocations of
// the calling thread (a const-initialised thread-local `Cell` needs no allocation itself).
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|c| c.set(c.get() + 1));
        // SAFETY: the caller's contract is passed on as is.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations() -> usize {
    ALLOCATIONS.with(|c| c.get())
}

#[test]
fn the_counter_sees_allocations() {
    let before = allocations();
    let v = std::hint::black_box(vec![1u8; 100]);
    assert!(allocations() > before);
    drop(v);
}

#[test]
fn steps_allocate_nothing() {
    for any in every_variant() {
        let opt = any.as_dyn();
        let n = 1000;
        let mut params = pseudo_random(n, 1);
        let grads = pseudo_random(n, 2);
        let mut state = initial_state(opt, n);
        let k = opt.state_planes();
        let mut planes_storage = state.clone();
        for backend in backends() {
            let before = allocations();
            for t in 1..=3 {
                opt.step_with(backend, t, &mut params, &grads, &mut state)
                    .unwrap();
                opt.init_state(&mut state).unwrap();
                // The error paths allocate nothing either: step 0, an invalid scalar state.
                assert!(
                    opt.step_with(backend, 0, &mut params, &grads, &mut state)
                        .is_err()
                );
                if let Some(&scalar) = state.get(k * n) {
                    state[k * n] = f32::NAN;
                    assert!(
                        opt.step_with(backend, t, &mut params, &grads, &mut state)
                            .is_err()
                    );
                    state[k * n] = scalar;
                }
            }
            assert_eq!(allocations(), before, "{any:?} on {backend:?}");
        }
        // step_planes, with the plane slices on the stack.
        let mut it = planes_storage.chunks_mut(n);
        let mut planes: [&mut [f32]; 3] = [
            it.next().unwrap_or(&mut []),
            it.next().unwrap_or(&mut []),
            it.next().unwrap_or(&mut []),
        ];
        let before = allocations();
        // The planes, then the scalar state (the remainder chunk) if there is one.
        let count = k + usize::from(!opt.scalar_names().is_empty());
        opt.step_planes(1, &mut params, &grads, &mut planes[..count])
            .unwrap();
        // And the scalar state's advance after a sharded step.
        let scalars = &mut state[k * n..];
        opt.advance_scalars(1, scalars).unwrap();
        assert_eq!(
            allocations(),
            before,
            "{any:?} step_planes, advance_scalars"
        );
    }
}

/// The pipeline's norm pass, skip decision and multi-group step allocate nothing either.
#[test]
fn pipeline_steps_allocate_nothing() {
    use fused_optim::pipeline::{GradPipeline, Group};
    let opt = fused_optim::Adam::default();
    let (mut a, mut b) = (pseudo_random(100, 1), pseudo_random(37, 2));
    let (ga, mut gb) = (pseudo_random(100, 3), pseudo_random(37, 4));
    let (mut sa, mut sb) = (initial_state(&opt, 100), initial_state(&opt, 37));
    let pipeline = GradPipeline {
        grad_scale: 8.0,
        max_norm: Some(0.1),
        skip_non_finite: true,
    };
    let before = allocations();
    let mut groups = [
        Group {
            params: &mut a,
            grads: &ga,
            state: &mut sa,
        },
        Group {
            params: &mut b,
            grads: &gb,
            state: &mut sb,
        },
    ];
    assert!(pipeline.step(&opt, 1, &mut groups).unwrap().stepped);
    assert_eq!(allocations(), before);
    gb[5] = f32::NAN;
    let mut groups = [
        Group {
            params: &mut a,
            grads: &ga,
            state: &mut sa,
        },
        Group {
            params: &mut b,
            grads: &gb,
            state: &mut sb,
        },
    ];
    assert!(!pipeline.step(&opt, 2, &mut groups).unwrap().stepped);
    assert_eq!(allocations(), before);
}
