"""The report of which BLAS and kernel the CPU path runs."""
from models import runtime

OPENBLAS = {'internal_api': 'openblas', 'version': '0.3.23',
            'architecture': 'Prescott', 'num_threads': 2}


def test_generic_kernel_on_an_avx512_cpu_is_warned(monkeypatch):
    monkeypatch.delenv('OPENBLAS_CORETYPE', raising=False)
    warning = runtime.blas_warning(OPENBLAS, ('avx512f', 'avx2'))
    assert 'Prescott' in warning and 'AVX512F/AVX2' in warning
    assert 'newer NumPy' in warning


def test_forced_kernel_names_the_variable(monkeypatch):
    monkeypatch.setenv('OPENBLAS_CORETYPE', 'Prescott')
    warning = runtime.blas_warning(OPENBLAS, ('avx2',))
    assert 'OPENBLAS_CORETYPE=Prescott' in warning and 'unset' in warning


def test_no_warning_for_a_matching_kernel_or_an_old_cpu():
    skylake = dict(OPENBLAS, architecture='SkylakeX')
    assert runtime.blas_warning(skylake, ('avx512f', 'avx2')) is None
    assert runtime.blas_warning(OPENBLAS, ()) is None
    assert runtime.blas_warning(dict(OPENBLAS, architecture=None),
                                ('avx2',)) is None


def test_cpu_flags_read_from_cpuinfo(tmp_path):
    cpuinfo = tmp_path / 'cpuinfo'
    cpuinfo.write_text('processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n')
    assert runtime.cpu_vector_flags(str(cpuinfo)) == ('avx2',)
    assert runtime.cpu_vector_flags(str(tmp_path / 'none')) == ()


def test_report_names_numpys_blas():
    lines, warnings = runtime.runtime_report()
    assert lines[0].startswith('NumPy ')
    assert any(line.startswith("NumPy's BLAS: ") for line in lines[1:])
    assert all(isinstance(warning, str) for warning in warnings)
