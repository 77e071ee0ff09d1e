#!/usr/bin/env perl
# The README's numbers, from what the shipped scenarios print: every
# `<!-- results:NAME -->...<!-- /results:NAME -->` block of README.md is
# written from the answers the sharesim binary printed with `--format json
# --all-columns`, one file DIR/<scenario>.json per scenario (what
# scripts/regenerate-readme-results.sh saves).
#
#   perl scripts/readme-results.pl DIR README.md           # rewrite the blocks
#   perl scripts/readme-results.pl --check DIR README.md   # exit 1 naming each block that differs
#
# A block whose scenarios have no file in DIR is left alone and named (the
# slow scenarios, which only the full regeneration runs). Every block of the
# README must have a rule below and every rule a block: an unknown or
# missing block is an error (exit 2), so a number cannot stay hand-written
# by mistake. Core Perl only (JSON::PP).
use strict;
use warnings;
use JSON::PP;

my $check = 0;
if (@ARGV && $ARGV[0] eq '--check') {
    $check = 1;
    shift @ARGV;
}
die "usage: readme-results.pl [--check] DIR README.md\n" unless @ARGV == 2;
my ($dir, $readme) = @ARGV;

# ---------------------------------------------------------------- the answers
my %answers;
for my $file (glob "$dir/*.json") {
    my ($name) = $file =~ m{([^/]+)\.json$};
    open my $fh, '<', $file or die "readme-results: cannot read $file: $!\n";
    local $/;
    my $text = <$fh>;
    die "readme-results: $file is empty (the run printed no answer)\n" unless length $text;
    $answers{$name} = decode_json($text);
}

# The rows of scenario `s` whose columns have the given values (numbers
# compared as numbers).
sub rows {
    my ($s, %want) = @_;
    my $all = $answers{$s} or die "readme-results: no answer of $s\n";
    return grep {
        my $r = $_;
        !grep {
            my $v = $r->{$_};
            !defined $v
                || ($want{$_} =~ /^-?[\d.]+(?:e-?\d+)?$/ ? $v != $want{$_} : $v ne $want{$_})
        } keys %want
    } @$all;
}

# The one row of scenario `s` with these values.
sub one {
    my ($s, %want) = @_;
    my @r = rows($s, %want);
    my $what = join ', ', map {"$_ = $want{$_}"} sort keys %want;
    die "readme-results: $s: " . scalar(@r) . " rows with $what, expected one\n" unless @r == 1;
    return $r[0];
}

# A column of a row; a missing or null value is an error (the README would
# quote nothing).
sub col {
    my ($row, $c) = @_;
    die "readme-results: $row->{scenario} / $row->{placement}: no value of $c\n"
        unless defined $row->{$c};
    return $row->{$c};
}

# ------------------------------------------------------------- number formats
# 3 significant digits, whole numbers from 100 up, thousands separators.
sub num {
    my ($x) = @_;
    my $s = abs($x) >= 100 ? sprintf('%.0f', $x) : sprintf('%.3g', $x);
    $s = sprintf('%.10f', $s) + 0 if $s =~ /e/;
    1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
    return $s;
}
sub usd { return '$' . num($_[0]) }
sub pct { return num($_[0] * 100) . ' %' }
sub whole { my $s = sprintf('%.0f', $_[0]); 1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/; return $s }
sub ms { return sprintf('%.0f ms', $_[0] * 1000) }

# "20-200 ms" for consecutive values of a sorted list, "500 ms" for one.
sub span_ms {
    my @v = @_;
    return 'no' unless @v;
    return ms($v[0]) if @v == 1;
    return sprintf('%.0f-%.0f ms', $v[0] * 1000, $v[-1] * 1000);
}

# ----------------------------------------------------------------- the rules
# name => [scenarios it needs, sub returning the block's text]
my %rule;

# default + seed-one-percent: the sharing factor by duty cycle.
$rule{'default-table'} = [[qw(default seed-one-percent)], sub {
    my %label = ('0.0002' => ' (typical chat user)', '0.003' => ' (heavy user)');
    my %seen;
    my @duty = sort { $a <=> $b } grep { !$seen{$_}++ } map { $_->{sweep_users_duty_cycle} } @{$answers{default}};
    my $users = col(one('default', sweep_users_duty_cycle => $duty[0], placement => 'h100-pool'), 'users');
    my @out = (
        '| duty cycle | H100s for ' . whole($users) . ' users | memory per user | capex per user | sharing factor: memory / devices / capex / energy | naive 1 / duty |',
        '|---|---|---|---|---|---|',
    );
    for my $d (@duty) {
        my ($s, %at) = ('default', sweep_users_duty_cycle => $d);
        my $label = $label{$d} // '';
        if (!col(one($s, %at, placement => 'desktop-per-user'), 'feasible')) {
            # The desktop misses the default target: the 30 s target of
            # seed-one-percent, where it meets it.
            ($s, %at) = ('seed-one-percent', sweep_users_duty_cycle => $d, sweep_service_level_ttft_p99_s => 30);
            $label = ' (TTFT <= 30 s: seed-one-percent)';
            next unless col(one($s, %at, placement => 'desktop-per-user'), 'feasible');
        }
        my $p = one($s, %at, placement => 'h100-pool');
        push @out, sprintf('| %s%s | %s | %s GB | %s | %s | %s |',
            pct($d), $label, whole(col($p, 'devices_total')), num(col($p, 'mem_gb_per_user')),
            usd(col($p, 'capex_usd_per_user')),
            join(' / ', map { num(col($p, "sharing_factor_$_")) } qw(memory devices capex energy)),
            num(1 / $d));
    }
    return "\n" . join("\n", @out) . "\n";
}];

my $one_percent = sub { one('default', sweep_users_duty_cycle => 0.01, placement => 'h100-pool') };
$rule{'default-1pct-devices'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_devices')) }];
$rule{'default-1pct-capex'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_capex')) }];
$rule{'default-1pct-batch'} = [['default'], sub { whole(col($one_percent->(), 'mean_batch')) }];
$rule{'default-1pct-energy'} = [['default'], sub { num(col($one_percent->(), 'sharing_factor_energy')) }];

# household-office-region: the pool-size curve.
my $hor = sub { one('household-office-region', placement => 'h100-pool', pool_size => $_[0]) };
my $hor_desk = sub { one('household-office-region', placement => 'desktop-per-user') };
for my $k (1, 4, 100, 10000, 100000) {
    $rule{"household-mem-$k"} = [['household-office-region'], sub { num(col($hor->($k), 'mem_gb_per_user')) . ' GB' }];
}
$rule{'household-devices-all'} = [['household-office-region'], sub {
    whole(col($hor->(col($hor_desk->(), 'users')), 'devices_total')) }];
$rule{'household-memory-factor'} = [['household-office-region'], sub {
    num(col($hor->(col($hor_desk->(), 'users')), 'sharing_factor_memory')) }];
$rule{'household-capex-factor'} = [['household-office-region'], sub {
    num(col($hor->(col($hor_desk->(), 'users')), 'sharing_factor_capex')) }];
# The smallest pool that costs less per user than a desktop.
my $hor_cheaper = sub {
    my $desk = col($hor_desk->(), 'capex_usd_per_user');
    my @r = sort { $a->{pool_size} <=> $b->{pool_size} }
        grep { $_->{feasible} && defined $_->{capex_usd_per_user} && $_->{capex_usd_per_user} < $desk }
        rows('household-office-region', placement => 'h100-pool');
    die "readme-results: household-office-region: no pool cheaper than a desktop\n" unless @r;
    return $r[0];
};
$rule{'household-cheaper-pool'} = [['household-office-region'], sub { whole($hor_cheaper->()->{pool_size}) }];
$rule{'household-cheaper-capex'} = [['household-office-region'], sub { usd(col($hor_cheaper->(), 'capex_usd_per_user')) }];
$rule{'household-desktop-capex'} = [['household-office-region'], sub { usd(col($hor_desk->(), 'capex_usd_per_user')) }];

# household-office-models: one sub-fleet per model in use.
my $hom = sub { one('household-office-models', placement => 'h100-pool', pool_size => $_[0]) };
my $hom_desk = sub { one('household-office-models', placement => 'desktop-per-user') };
for my $k (4, 20, 100) {
    $rule{"models-servers-$k"} = [['household-office-models'], sub { num(col($hom->($k), 'servers_per_pool')) }];
    $rule{"models-capex-$k"} = [['household-office-models'], sub { usd(col($hom->($k), 'capex_usd_per_user')) }];
}
$rule{'models-replicas-4'} = [['household-office-models'], sub { col($hom->(4), 'model_replicas_per_pool') }];
$rule{'models-desktop-capex'} = [['household-office-models'], sub { usd(col($hom_desk->(), 'capex_usd_per_user')) }];
$rule{'models-capex-factor-100'} = [['household-office-models'], sub { num(col($hom->(100), 'sharing_factor_capex')) }];
# The same pools swapping coding's and writing's models in on demand.
my $hom_swap = sub { one('household-office-models', placement => $_[0], pool_size => $_[1]) };
for my $v (['nvme', 'h100-pool-swap-nvme'], ['host', 'h100-pool-swap-host-memory']) {
    my ($tag, $placement) = @$v;
    $rule{"models-swap-$tag"} = [['household-office-models'], sub {
        join(', ', map { num(col($hom_swap->($placement, $_), 'servers_per_pool')) } (4, 20, 100))
    }];
    $rule{"models-swap-$tag-ttft"} = [['household-office-models'], sub {
        num(col($hom_swap->($placement, 100), 'ttft_p99_s')) . ' s'
    }];
}
$rule{'models-swap-host-capex-100'} = [['household-office-models'], sub { usd(col($hom_swap->('h100-pool-swap-host-memory', 100), 'capex_usd_per_user')) }];

# memory-price-shock: capex per user and the capex factor at 1x and 3x memory.
my $mps = sub {
    my ($mult, $price, $placement) = @_;
    one('memory-price-shock', sweep_costs_memory_price_multiplier => $mult,
        sweep_placements_0_price_usd => $price, placement => $placement);
};
for my $m (1, 3) {
    $rule{"mps-desktop-${m}x"} = [['memory-price-shock'], sub { usd(col($mps->($m, 1999, 'desktop-per-user'), 'capex_usd_per_user')) }];
    $rule{"mps-pool-${m}x"} = [['memory-price-shock'], sub { usd(col($mps->($m, 1999, 'h100-pool'), 'capex_usd_per_user')) }];
    $rule{"mps-factor-${m}x"} = [['memory-price-shock'], sub { num(col($mps->($m, 1999, 'h100-pool'), 'sharing_factor_capex')) }];
    $rule{"mps-factor-6500-${m}x"} = [['memory-price-shock'], sub { num(col($mps->($m, 6500, 'h100-pool'), 'sharing_factor_capex')) }];
}
$rule{'mps-pool-devices'} = [['memory-price-shock'], sub { whole(col($mps->(1, 1999, 'h100-pool'), 'devices_total')) }];

# latency-and-availability: the pool's p99 TTFT beyond the round trip, and
# the round trips at which each placement meets the target.
$rule{'latency-verdicts'} = [['latency-and-availability'], sub {
    my $s = 'latency-and-availability';
    my $rtt = 'sweep_placements_1_network_rtt_s';
    my @pool = sort { $a->{$rtt} <=> $b->{$rtt} } rows($s, placement => 'h100-pool');
    my @meets = grep { $_->{feasible} } @pool;
    die "readme-results: $s: the pool meets the target at no round trip\n" unless @meets;
    my $extra = 0;
    $extra += col($_, 'ttft_p99_s') - $_->{$rtt} for @meets;
    $extra /= @meets;
    my @misses = map { $_->{$rtt} } grep { !$_->{feasible} } @pool;
    my @desk = grep { $_->{feasible} } rows($s, placement => 'desktop-per-user');
    my $desk = @desk ? 'the desktop meets it at ' . span_ms(map { $_->{$rtt} } @desk) . ' round trips'
        : 'the desktop misses it at every round trip';
    return sprintf("The H100 pool's p99 TTFT is the round trip plus ~%s, so it meets the target at %s round trips%s; %s",
        ms($extra), span_ms(map { $_->{$rtt} } @meets),
        @misses ? ' and misses it at ' . join(' and ', map { ms($_) } @misses) : '', $desk);
}];

# small-models: speech on laptops against one pooled H100, and the hybrid.
my $sm = sub { one('small-models', placement => $_[0], pool_size => $_[1]) };
my $sm_all = sub { col(one('small-models', placement => 'laptop-npu-speech'), 'pool_size') };
$rule{'small-laptop-p99'} = [['small-models'], sub { num(col(one('small-models', placement => 'laptop-npu-speech'), 'response_p99_s')) . ' s' }];
$rule{'small-speech-pool-devices'} = [['small-models'], sub { whole(col($sm->('h100-speech-pool', $sm_all->()), 'devices_total')) }];
$rule{'small-speech-users'} = [['small-models'], sub { whole(col($sm->('h100-speech-pool', $sm_all->()), 'users')) }];
$rule{'small-speech-pool-p99'} = [['small-models'], sub { num(col($sm->('h100-speech-pool', $sm_all->()), 'response_p99_s')) . ' s' }];
for my $f (qw(devices memory capex energy)) {
    $rule{"small-speech-factor-$f"} = [['small-models'], sub { num(col($sm->('h100-speech-pool', $sm_all->()), "sharing_factor_$f")) }];
}
$rule{'small-hybrid'} = [['small-models'], sub {
    my $r = $sm->('speech-local-chat-pooled', $sm_all->());
    num(col($r, 'mem_gb_per_user')) . ' GB and ' . usd(col($r, 'capex_usd_per_user')) . ' per user at ' . whole($sm_all->());
}];
$rule{'small-all-pooled'} = [['small-models'], sub {
    my $r = $sm->('all-pooled', $sm_all->());
    whole(col($r, 'devices_total')) . ' H100s: ' . num(col($r, 'mem_gb_per_user')) . ' GB and ' . usd(col($r, 'capex_usd_per_user')) . ' per user';
}];
$rule{'small-pools-of-10'} = [['small-models'], sub {
    usd(col($sm->('all-pooled', 10), 'capex_usd_per_user')) . ' and ' . usd(col($sm->('speech-local-chat-pooled', 10), 'capex_usd_per_user'));
}];
$rule{'small-laptop-capex'} = [['small-models'], sub { usd(col(one('small-models', placement => 'laptop-npu-speech'), 'capex_usd_per_user')) }];

# azure-trace: the sized fleet for the recorded hour.
my $az = sub { one('azure-trace', placement => $_[0]) };
$rule{'azure-pool-devices'} = [['azure-trace'], sub { whole(col($az->('h100-pool'), 'devices_total')) }];
$rule{'azure-pool-busy'} = [['azure-trace'], sub { pct(col($az->('h100-pool'), 'utilization_share')) }];
$rule{'azure-desktops'} = [['azure-trace'], sub { whole(col($az->('desktop-per-user'), 'devices_total')) }];
$rule{'azure-memory-factor'} = [['azure-trace'], sub { num(col($az->('h100-pool'), 'sharing_factor_memory')) }];
$rule{'azure-capex-factor'} = [['azure-trace'], sub { num(col($az->('h100-pool'), 'sharing_factor_capex')) }];

# default (the whole bill): TCO and carbon per user-year by duty cycle.
my $bill = sub { one('default', sweep_users_duty_cycle => $_[0], placement => $_[1]) };
# A fleet's lifetime in years: its memory over the memory it replaces a year.
my $life = sub { col($_[0], 'mem_gb_per_user') / col($_[0], 'mem_gb_replaced_per_user_year') };
$rule{'bill-table'} = [['default'], sub {
    my %seen;
    my @duty = sort { $a <=> $b } grep { !$seen{$_}++ } map { $_->{sweep_users_duty_cycle} } @{$answers{default}};
    my @out = (
        '| duty cycle | capex per user (factor) | TCO per user-year: desktop / H100 pool (factor) | TCO per million output tokens: desktop / pool | carbon per user-year: desktop / pool (factor) |',
        '|---|---|---|---|---|',
    );
    for my $d (@duty) {
        my $l = $bill->($d, 'desktop-per-user');
        next unless col($l, 'feasible');
        my $p = $bill->($d, 'h100-pool');
        push @out, sprintf('| %s | %s / %s (%s) | %s / %s (%s) | %s / %s | %s / %s kg (%s) |', pct($d),
            usd(col($l, 'capex_usd_per_user')), usd(col($p, 'capex_usd_per_user')), num(col($p, 'sharing_factor_capex')),
            usd(col($l, 'tco_usd_per_user_year')), usd(col($p, 'tco_usd_per_user_year')), num(col($p, 'sharing_factor_tco')),
            usd(col($l, 'tco_usd_per_million_output_tokens')), usd(col($p, 'tco_usd_per_million_output_tokens')),
            num(col($l, 'carbon_kg_per_user_year')), num(col($p, 'carbon_kg_per_user_year')), num(col($p, 'sharing_factor_carbon')));
    }
    return "\n" . join("\n", @out) . "\n";
}];
# The smallest TCO factor over the duty cycles the desktop can serve.
$rule{'bill-min-factor'} = [['default'], sub {
    my @f = sort { $a <=> $b } map { col($bill->($_->{sweep_users_duty_cycle}, 'h100-pool'), 'sharing_factor_tco') }
        grep { $_->{placement} eq 'desktop-per-user' && $_->{feasible} } @{$answers{default}};
    num($f[0]);
}];
$rule{'bill-factors-03'} = [['default'], sub {
    my $p = $bill->(0.003, 'h100-pool');
    num(col($p, 'sharing_factor_tco')) . ' vs ' . num(col($p, 'sharing_factor_capex'));
}];
$rule{'bill-h100-year'} = [['default'], sub {
    my $p = $bill->(0.003, 'h100-pool');
    my $n = col($p, 'devices_total');
    whole(col($p, 'tco_usd_per_year_total') / $n) . ' USD a year against ' . whole(col($p, 'capex_usd_total') / $n / $life->($p));
}];
$rule{'bill-desktop-year'} = [['default'], sub {
    my $l = $bill->(0.003, 'desktop-per-user');
    my $price = col($l, 'capex_usd_per_user') / $life->($l);
    '~' . whole(col($l, 'tco_usd_per_user_year') - $price) . ' USD of home electricity to its ' . whole($price);
}];
$rule{'bill-desktop-carbon'} = [['default'], sub {
    my $l = $bill->(0.0002, 'desktop-per-user');
    my ($e, $all) = (col($l, 'carbon_embodied_kg_per_user_year'), col($l, 'carbon_kg_per_user_year'));
    sprintf('%.0f %% of a desktop\'s carbon is embodied (%s of %s kg a year', 100 * $e / $all, whole($e), whole($all));
}];

# memory-breakeven: the memory price at which a pool of 16 costs what a
# desktop each does, and the pool sizes that never cross.
my $mb = 'memory-breakeven';
my $mb_duty = sub {
    my %seen;
    sort { $a <=> $b } grep { !$seen{$_}++ } map { $_->{sweep_users_duty_cycle} } @{$answers{$mb}};
};
my $mb_row = sub { one($mb, sweep_users_duty_cycle => $_[0], placement => $_[1], defined $_[2] ? (pool_size => $_[2]) : ()) };
# Pool sizes cheaper than a desktop each at every duty cycle and memory price
# (no break-even, cheaper today), and those that never are.
my $mb_sides = sub {
    my (@always, @never, %ps);
    my @sizes = sort { $a <=> $b } grep { !$ps{$_}++ } map { $_->{pool_size} } rows($mb, placement => 'h100-pool');
    for my $k (@sizes) {
        my @r = rows($mb, placement => 'h100-pool', pool_size => $k);
        next if grep { defined $_->{breakeven_memory_price_multiplier} } @r;
        my @cheaper = grep {
            col($_, 'tco_usd_per_user_year') < col($mb_row->($_->{sweep_users_duty_cycle}, 'desktop-per-user'), 'tco_usd_per_user_year')
        } @r;
        push @always, $k if @cheaper == @r;
        push @never, $k if !@cheaper;
    }
    die "readme-results: $mb: no pool size cheaper at every memory price\n" unless @always;
    my %alw = map { $_ => 1 } @always;
    die "readme-results: $mb: the pools from $always[0] up are not all cheaper at every memory price\n"
        if grep { $_ >= $always[0] && !$alw{$_} } @sizes;
    die "readme-results: $mb: every pool size costs less than a desktop at some memory price\n" unless @never;
    return (\@always, \@never, \@sizes);
};
$rule{'breakeven-16-devices'} = [[$mb], sub {
    my $r = $mb_row->(($mb_duty->())[0], 'h100-pool', 16);
    my $n = col($r, 'devices_total') / col($r, 'users') * 16;
    $n == 1 ? 'one H100' : num($n) . ' H100s';
}];
$rule{'breakeven-tco'} = [[$mb], sub {
    my $d = ($mb_duty->())[0];
    usd(col($mb_row->($d, 'desktop-per-user'), 'tco_usd_per_user_year')) . ' vs '
        . usd(col($mb_row->($d, 'h100-pool', 16), 'tco_usd_per_user_year')) . ' a user-year at ' . pct($d) . ' duty';
}];
$rule{'breakeven-span'} = [[$mb], sub {
    my @m = sort { $a <=> $b } map { col($mb_row->($_, 'h100-pool', 16), 'breakeven_memory_price_multiplier') } $mb_duty->();
    my ($lo, $hi) = (sprintf('%.1f', $m[0]), sprintf('%.1f', $m[-1]));
    $lo eq $hi ? $lo : "$lo-$hi";
}];
$rule{'breakeven-duties'} = [[$mb], sub { my @d = $mb_duty->(); 'from ' . pct($d[0]) . ' to ' . pct($d[-1]) }];
$rule{'breakeven-always'} = [[$mb], sub { whole(($mb_sides->())[0][0]) }];
$rule{'breakeven-never'} = [[$mb], sub { whole(($mb_sides->())[1][0]) }];
# The desktop's price less its memory, per user-year, and its share of the price.
my $mb_rest = sub {
    my $l = $mb_row->(($mb_duty->())[0], 'desktop-per-user');
    my $price = col($l, 'capex_usd_per_user') / $life->($l);
    return ($price - col($l, 'tco_memory_usd_per_user_year'), 1 - col($l, 'tco_memory_usd_per_user_year') / $price);
};
$rule{'breakeven-rest-share'} = [[$mb], sub { sprintf('%.0f %%', 100 * ($mb_rest->())[1]) }];
$rule{'breakeven-rest'} = [[$mb], sub { whole(($mb_rest->())[0]) }];
$rule{'breakeven-region'} = [[$mb], sub {
    my $all = ($mb_sides->())[2][-1];
    my @t = sort { $a <=> $b } map { col($mb_row->($_, 'h100-pool', $all), 'tco_usd_per_user_year') } $mb_duty->();
    num($t[0]) . '-' . num($t[-1]);
}];

# privacy: the cost of the local_only class.
my $pv = sub { one('privacy', placement => $_[0]) };
my $pv_mix = sub { $pv->('private-local-open-pooled') };
$rule{'privacy-mixed'} = [['privacy'], sub { usd(col($pv_mix->(), 'tco_usd_per_user_year')) }];
$rule{'privacy-cost'} = [['privacy'], sub { usd(col($pv_mix->(), 'cost_of_privacy_usd_per_user_year')) }];
$rule{'privacy-pooled'} = [['privacy'], sub { usd(col($pv_mix->(), 'tco_without_privacy_usd_per_user_year')) }];
$rule{'privacy-saving'} = [['privacy'], sub {
    usd(col($pv->('desktop-everyone'), 'tco_usd_per_user_year') - col($pv_mix->(), 'tco_usd_per_user_year')) }];
$rule{'privacy-desktops'} = [['privacy'], sub { usd(col($pv->('desktop-everyone'), 'tco_usd_per_user_year')) }];
$rule{'privacy-marginal'} = [['privacy'], sub {
    my $p = $pv->('desktop-private');
    usd(col($p, 'tco_marginal_usd_per_user_year')) . ' instead of ' . usd(col($p, 'tco_usd_per_user_year'));
}];

# world-scale: the region extrapolated to the world (world.parquet's columns,
# which `size --all-columns` joins to the sizing rows).
my $ws = sub { one('world-scale', placement => $_[0], pool_size => $_[1]) };
my $ws_users = sub { col(one('world-scale', placement => 'desktop-per-user'), 'users') };
my $ws_desk = sub { $ws->('desktop-per-user', $ws_users->()) };
my $ws_region = sub { $ws->('h100-pool', $ws_users->()) };
sub billion { return num($_[0] / 1e9) . ' billion' }
sub million { return num($_[0] / 1e6) . ' million' }
# A small share in percent, 2 significant digits ("0.0016 %").
sub share_pct { my $s = sprintf('%.2g', $_[0] * 100); $s = sprintf('%.10f', $s) + 0 if $s =~ /e/; return "$s %" }
$rule{'world-region-users'} = [['world-scale'], sub { whole($ws_users->()) }];
$rule{'world-users'} = [['world-scale'], sub { million(col($ws_desk->(), 'world_users')) }];
$rule{'world-desktop-dram'} = [['world-scale'], sub { billion(col($ws_desk->(), 'mem_gb_world')) }];
$rule{'world-desktop-replaced'} = [['world-scale'], sub { billion(col($ws_desk->(), 'mem_gb_replaced_per_year_world')) }];
$rule{'world-desktop-share'} = [['world-scale'], sub { sprintf('%.0f %%', 100 * col($ws_desk->(), 'share_of_world_dram_output')) }];
$rule{'world-output'} = [['world-scale'], sub { billion(col($ws_desk->(), 'world_dram_output_gb_per_year')) }];
$rule{'world-h100s'} = [['world-scale'], sub { whole(col($ws_region->(), 'devices_world')) }];
$rule{'world-hbm'} = [['world-scale'], sub { million(col($ws_region->(), 'hbm_gb_world')) }];
$rule{'world-hbm-share'} = [['world-scale'], sub { share_pct(col($ws_region->(), 'share_of_world_dram_output')) }];
$rule{'world-tco'} = [['world-scale'], sub {
    billion(col($ws_region->(), 'tco_usd_per_year_world')) . ' USD a year of TCO against ' . billion(col($ws_desk->(), 'tco_usd_per_year_world')) }];
$rule{'world-carbon'} = [['world-scale'], sub {
    num(col($ws_region->(), 'carbon_t_per_year_world') / 1e6) . ' vs ' . million(col($ws_desk->(), 'carbon_t_per_year_world')) }];
$rule{'world-office-h100s'} = [['world-scale'], sub { million(col($ws->('h100-pool', 100), 'devices_world')) }];
$rule{'world-office-share'} = [['world-scale'], sub { share_pct(col($ws->('h100-pool', 100), 'share_of_world_dram_output')) }];

# mooncake-trace: prefix caching on a replayed trace with block hashes.
my $mc = sub { one('mooncake-trace', placement => $_[0]) };
$rule{'trace-hit-cached'} = [['mooncake-trace'], sub { pct(col($mc->('h100-pool-cached'), 'prefix_cache_hit_share')) }];
$rule{'trace-hit-affinity'} = [['mooncake-trace'], sub { pct(col($mc->('h100-pool-cache-affinity'), 'prefix_cache_hit_share')) }];
$rule{'trace-servers'} = [['mooncake-trace'], sub {
    join(', ', map { num(col($mc->($_->[0]), 'servers_per_pool')) . ' ' . $_->[1] }
        (['h100-pool', 'without caching'], ['h100-pool-cached', 'with it'], ['h100-pool-cache-affinity', 'with it and prefix-aware dispatch']));
}];
$rule{'trace-desktop-prefill'} = [['mooncake-trace'], sub {
    my $r = $mc->('desktop-per-user');
    my ($s) = ($r->{reason} // '') =~ /prefill at the same percentile alone takes ([0-9.]+) s/;
    die "readme-results: mooncake-trace: the desktop's reason names no prefill time\n" unless defined $s;
    num($s) . ' s';
}];

# always-available-assistant: each option's share of a year's requests within
# the service level, outages counted.
my $av = sub { one('always-available-assistant', placement => $_[0]) };
sub pct3 { return sprintf('%.3f %%', 100 * $_[0]) }
$rule{'availability-table'} = [['always-available-assistant'], sub {
    my @opt = (
        ['desktop', 'a desktop each', ' (power, hardware)'],
        ['cloud-1-region', 'one H100 region', ' (power, home network, region)'],
        ['cloud-2-regions', 'two regions, the standby sized for the whole load', ''],
        ['cloud-local-fallback', 'one region, the desktop as fallback', ''],
        ['desktop-cloud-fallback', 'the desktop, one region as fallback', ''],
        ['cloud-laptop-fallback', 'one region, a laptop serving Phi-4-mini as fallback', ''],
    );
    my @out = ('| option | down (share of the year) | within the service level | capex per user |', '|---|---|---|---|');
    for my $o (@opt) {
        my $r = $av->($o->[0]);
        my $down = pct3(col($r, 'unavailable_share_year'));
        $down .= ', ' . pct3($r->{fallback_covers_share_year}) . ' of it covered' if defined $r->{fallback_covers_share_year};
        my $a = pct3(col($r, 'availability_share'));
        $a = "**$a**" if $r->{availability_choice};
        push @out, sprintf('| %s | %s%s | %s | %s |', $o->[1], $down, $o->[2], $a, usd(col($r, 'capex_usd_per_user_with_fallback')));
    }
    return "\n" . join("\n", @out) . "\n";
}];
$rule{'availability-region-down'} = [['always-available-assistant'], sub { pct3(col($av->('cloud-1-region'), 'unavailable_share_year')) }];
$rule{'availability-target'} = [['always-available-assistant'], sub { num(100 * col($av->('cloud-1-region'), 'availability_target')) . ' %' }];
$rule{'availability-left'} = [['always-available-assistant'], sub {
    my $r = $av->('cloud-local-fallback');
    pct3(col($r, 'unavailable_share_year') - col($r, 'fallback_covers_share_year'));
}];
$rule{'availability-laptop'} = [['always-available-assistant'], sub {
    my $r = $av->('cloud-laptop-fallback');
    pct3(col($r, 'availability_share')) . ' for ' . usd(col($r, 'capex_usd_per_user_with_fallback') - col($av->('cloud-1-region'), 'capex_usd_per_user')) . ' of laptop per user';
}];
$rule{'availability-desktop-miss'} = [['always-available-assistant'], sub { pct3(1 - col($av->('desktop'), 'slo_attainment_share')) }];
$rule{'availability-ttft'} = [['always-available-assistant'], sub {
    num(col($av->('desktop'), 'ttft_p99_s')) . " s, the H100's " . num(col($av->('cloud-1-region'), 'ttft_p99_s')) . ' s';
}];

# elastic-region (slow: only the full regeneration runs it): the static
# fleet against the hourly schedule (its hours: the elastic_hHH_ columns
# `size --all-columns` joins from elastic.parquet).
my $er = sub { one('elastic-region', placement => 'h100-pool') };
my $er_per = sub { col($er->(), 'devices_total') / col($er->(), 'servers_total') };
sub h100s { my $n = $_[0]; return whole($n) . ($n == 1 ? ' H100' : ' H100s') }
# The hours holding the fewest (or most) devices: "01:00-05:00 UTC, 2.3-3.5 requests/s".
my $er_hours = sub {
    my ($most) = @_;
    my $r = $er->();
    my %held = map { /^elastic_h(\d\d)_devices_held$/ ? ($1 => col($r, $_)) : () } keys %$r;
    die "readme-results: elastic-region: no hourly schedule printed\n" unless %held;
    my @h = sort { $a <=> $b } keys %held;
    my $want = (sort { $most ? $held{$b} <=> $held{$a} : $held{$a} <=> $held{$b} } @h)[0];
    my @at = grep { $held{$_} == $held{$want} } @h;
    die "readme-results: elastic-region: the hours holding $held{$want} devices are not consecutive\n"
        if $at[-1] - $at[0] + 1 != @at;
    my @rate = sort { $a <=> $b } map { col($r, "elastic_h${_}_request_rate_per_s") } @at;
    my $rates = sprintf('%.1f', $rate[0]) eq sprintf('%.1f', $rate[-1]) ? num($rate[0]) : sprintf('%.1f-%.1f', $rate[0], $rate[-1]);
    return ($held{$want}, sprintf('%02d:00-%02d:00 UTC', $at[0], $at[-1] + 1), "$rates requests/s");
};
$rule{'elastic-static'} = [['elastic-region'], sub {
    my $r = $er->();
    my $h = col($r, 'gpu_hours_per_day_static');
    sprintf('%s: %s GPU-hours, or %s a day at %s/h', h100s(col($r, 'devices_total')), whole($h),
        usd(col($r, 'rental_usd_per_day_static')), usd(col($r, 'rental_usd_per_day_static') / $h));
}];
$rule{'elastic-night'} = [['elastic-region'], sub {
    my ($n, $hours, $rates) = $er_hours->(0);
    h100s($n) . " at night ($hours, $rates)";
}];
$rule{'elastic-peak'} = [['elastic-region'], sub {
    my ($n, $hours, $rates) = $er_hours->(1);
    my $r = $er->();
    die "readme-results: elastic-region: the peak hour needs no more than the static fleet\n"
        unless $n > col($r, 'devices_total');
    whole($n) . " at the $hours peak ($rates)";
}];
$rule{'elastic-mean'} = [['elastic-region'], sub { num(col($er->(), 'servers_mean') * $er_per->()) }];
$rule{'elastic-hourly'} = [['elastic-region'], sub {
    my $r = $er->();
    sprintf('%s GPU-hours and %s a day rented, %.0f %% of the static fleet', whole(col($r, 'gpu_hours_per_day_hourly')),
        usd(col($r, 'rental_usd_per_day_hourly')), 100 * col($r, 'rental_usd_per_day_hourly') / col($r, 'rental_usd_per_day_static'));
}];
$rule{'elastic-energy'} = [['elastic-region'], sub {
    whole(col($er->(), 'energy_kwh_per_day_hourly')) . ' instead of ' . whole(col($er->(), 'energy_kwh_per_day_total')) }];
$rule{'elastic-owned'} = [['elastic-region'], sub {
    my $r = $er->();
    die "readme-results: elastic-region: owning the schedule's peak costs no more than the static fleet\n"
        unless col($r, 'capex_usd_total_hourly') > col($r, 'capex_usd_total');
    sprintf('%s (%s against %s)', h100s(col($r, 'servers_peak') * $er_per->()), usd(col($r, 'capex_usd_total_hourly')),
        usd(col($r, 'capex_usd_total')));
}];

# The reactive autoscaler ([sizing.reactive]): its least-cost target meeting
# the service level, against the hourly schedule and the static fleet.
$rule{'elastic-reactive'} = [['elastic-region'], sub {
    my $r = $er->();
    my $g = col($r, 'gpu_hours_per_day_reactive');
    sprintf('%s requests/s per server with a %s-minute provisioning delay holds up to %s H100s (%s on average): %s GPU-hours and %s a day, %.0f %% of the static fleet and %.0f %% of the hourly schedule',
        num(col($r, 'reactive_target_requests_per_s')), num(col($r, 'reactive_delay_min')),
        whole(col($r, 'servers_peak_reactive') * $er_per->()),
        num(col($r, 'servers_mean_reactive') * $er_per->()), whole($g), usd(col($r, 'rental_usd_per_day_reactive')),
        100 * $g / col($r, 'gpu_hours_per_day_static'), 100 * $g / col($r, 'gpu_hours_per_day_hourly'));
}];
$rule{'elastic-scaleup'} = [['elastic-region'], sub {
    my $r = $er->();
    sprintf('%s requests of a simulated day arrive while a scale-up is pending, %s of them within the service level',
        whole(col($r, 'scaleup_requests')), pct(col($r, 'scaleup_attainment_share')));
}];
$rule{'elastic-policy'} = [['elastic-region'], sub { col($er->(), 'elastic_policy') }];

# always-on-agent (slow: only the full regeneration runs it): agents alone,
# then mixed with chat users.
my $aoa = sub {
    my ($share, $placement, $k) = @_;
    one('always-on-agent', sweep_classes_0_share => $share, placement => $placement, pool_size => $k);
};
my $aoa_all = sub { col(one('always-on-agent', sweep_classes_0_share => 1, placement => 'desktop-per-user'), 'pool_size') };
$rule{'agents-h100s'} = [['always-on-agent'], sub { whole(col($aoa->(1, 'h100-pool', $aoa_all->()), 'devices_total')) }];
$rule{'agents-memory-factor'} = [['always-on-agent'], sub { num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_memory')) }];
$rule{'agents-capex-factor'} = [['always-on-agent'], sub { num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_capex')) }];
$rule{'agents-energy'} = [['always-on-agent'], sub {
    num(col(one('always-on-agent', sweep_classes_0_share => 1, placement => 'desktop-per-user'), 'energy_kwh_per_user_per_day'))
        . ' vs ' . num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'energy_kwh_per_user_per_day')) . ' kWh';
}];
$rule{'agents-shared-desktops-4'} = [['always-on-agent'], sub { num(col($aoa->(1, 'shared-desktops', 4), 'sharing_factor_devices')) . 'x' }];
$rule{'agents-shared-desktops-all'} = [['always-on-agent'], sub {
    my $r = $aoa->(1, 'shared-desktops', $aoa_all->());
    num(col($r, 'sharing_factor_devices')) . 'x for ' . whole($aoa_all->()) . ' agents on ' . whole(col($r, 'devices_total')) . ' desktops';
}];
$rule{'agents-h100-of-4'} = [['always-on-agent'], sub {
    my $r = $aoa->(1, 'h100-pool', 4);
    usd(col($r, 'capex_usd_per_user')) . ' per agent, ' . num(1 / col($r, 'sharing_factor_capex')) . 'x a desktop';
}];
$rule{'agents-table'} = [['always-on-agent'], sub {
    my %seen;
    my @share = sort { $b <=> $a } grep { !$seen{$_}++ } map { $_->{sweep_classes_0_share} } @{$answers{'always-on-agent'}};
    my @out = (
        '| agents / chat users | H100s for ' . whole($aoa_all->()) . ' users | memory / capex / energy factor | desktops if they batch locally (factor) |',
        '|---|---|---|---|',
    );
    for my $a (@share) {
        my $p = $aoa->($a, 'h100-pool', $aoa_all->());
        my $d = $aoa->($a, 'shared-desktops', $aoa_all->());
        push @out, sprintf('| %s / %s | %s | %s | %s (%s) |', pct($a), pct(1 - $a),
            whole(col($p, 'devices_total')),
            join(' / ', map { num(col($p, "sharing_factor_$_")) } qw(memory capex energy)),
            whole(col($d, 'devices_total')), num(col($d, 'sharing_factor_devices')));
    }
    return "\n" . join("\n", @out) . "\n";
}];

# default-uncertainty: p5 / p50 / p95 of the pool's figures over the ranged
# inputs (the rows `uncertainty --format json` prints), nominal beside.
my $unc = sub { one('default-uncertainty', placement => 'h100-pool', figure => $_[0]) };
my $unc_ppp = sub { my $r = $unc->($_[0]); join(' / ', map { num(col($r, $_)) } qw(p5 p50 p95)) };
$rule{'unc-h100s'} = [['default-uncertainty'], sub { $unc_ppp->('servers_per_pool') }];
$rule{'unc-capex'} = [['default-uncertainty'], sub {
    $unc_ppp->('sharing_factor_capex') . ' (' . num(col($unc->('sharing_factor_capex'), 'nominal')) . ' at the nominal inputs)' }];
$rule{'unc-tco'} = [['default-uncertainty'], sub {
    $unc_ppp->('sharing_factor_tco') . ' (' . num(col($unc->('sharing_factor_tco'), 'nominal')) . ')' }];
$rule{'claim-1pct-uncertainty'} = [['default-uncertainty'], sub {
    my $r = $unc->('sharing_factor_tco');
    'TCO factor ' . num(col($r, 'p5')) . '-' . num(col($r, 'p95')) . ' (p5-p95) at 0.3 % duty over the ranged prices, lifetimes, memory price and duty cycle';
}];

# default-waterfall (`waterfall` of default-uncertainty's nominal point): the
# devices factor as the product of its steps, in their order.
my %cause = (idle_time => 'idle time', pool_size => 'pool size', diurnal_profile => 'daily profile',
    time_zones => 'time zones', batching => 'batching', hardware => 'hardware');
$rule{'waterfall-steps'} = [['default-waterfall'], sub {
    my @s = sort { $a->{step_index} <=> $b->{step_index} } @{$answers{'default-waterfall'}};
    die "readme-results: default-waterfall: no steps\n" unless @s;
    join(' x ', map { ($cause{$_->{step}} // $_->{step}) . ' ' . num(col($_, 'factor')) } @s) . ' = ' . num(col($s[0], 'total_factor'));
}];
$rule{'waterfall-busy'} = [['default-waterfall'], sub {
    my ($idle) = grep { $_->{step} eq 'idle_time' } @{$answers{'default-waterfall'}};
    whole(col($idle, 'to_devices_total'));
}];

# The argument, claim by claim: a verdict and a figure with its range per
# claim, each from the scenario that tests it (the table at the top of the
# findings). Verdicts are decided from the figures, not written by hand.
# The text of another block's rule, where a claim quotes the same figure.
my $block = sub { $rule{$_[0]}[1]->() };
sub span { my @v = sort { $a <=> $b } @_; num($v[0]) eq num($v[-1]) ? num($v[0]) : num($v[0]) . '-' . num($v[-1]) }
my $feasible_duty = sub {
    map { $_->{sweep_users_duty_cycle} } grep { $_->{placement} eq 'desktop-per-user' && $_->{feasible} } @{$answers{default}};
};
$rule{'claim-1pct-verdict'} = [['default'], sub {
    my $f = col($one_percent->(), 'sharing_factor_capex');
    $f >= 100 ? '**Holds, and understates sharing**' : '**Overstates sharing**';
}];
$rule{'claim-1pct-figure'} = [['default'], sub {
    my $p = $one_percent->();
    my @tco = map { col($bill->($_, 'h100-pool'), 'sharing_factor_tco') } $feasible_duty->();
    my @d = sort { $a <=> $b } $feasible_duty->();
    num(col($p, 'sharing_factor_capex')) . 'x less capital and ' . num(col($p, 'sharing_factor_tco'))
        . 'x less TCO at 1 % duty, for the same p99 targets; TCO factor ' . span(@tco) . ' from ' . pct($d[0]) . ' to ' . pct($d[-1]) . ' duty';
}];
$rule{'claim-memory-verdict'} = [['memory-price-shock'], sub {
    my $dl = col($mps->(3, 1999, 'desktop-per-user'), 'capex_usd_per_user') - col($mps->(1, 1999, 'desktop-per-user'), 'capex_usd_per_user');
    my $dp = col($mps->(3, 1999, 'h100-pool'), 'capex_usd_per_user') - col($mps->(1, 1999, 'h100-pool'), 'capex_usd_per_user');
    $dl > $dp ? '**Holds** (in dollars per user)' : '**Does not hold**';
}];
$rule{'claim-memory-figure'} = [['memory-price-shock'], sub {
    my ($l1, $l3) = map { col($mps->($_, 1999, 'desktop-per-user'), 'capex_usd_per_user') } (1, 3);
    my ($p1, $p3) = map { col($mps->($_, 1999, 'h100-pool'), 'capex_usd_per_user') } (1, 3);
    'at 3x memory prices a desktop user pays ' . usd($l3 - $l1) . ' more, a pooled user ' . usd($p3 - $p1)
        . '; the capex factor moves from ' . $block->('mps-factor-1x') . ' to ' . $block->('mps-factor-3x');
}];
my $lat = 'latency-and-availability';
my $lat_rtt = 'sweep_placements_1_network_rtt_s';
$rule{'claim-latency-verdict'} = [[$lat], sub {
    my @desk = grep { $_->{feasible} } rows($lat, placement => 'desktop-per-user');
    my @pool = grep { $_->{feasible} } rows($lat, placement => 'h100-pool');
    !@desk && @pool ? '**Does not hold** at this target' : @desk && !@pool ? '**Holds**' : '**Holds at long round trips**';
}];
$rule{'claim-latency-figure'} = [[$lat], sub {
    my @pool = sort { $a <=> $b } map { $_->{$lat_rtt} } grep { $_->{feasible} } rows($lat, placement => 'h100-pool');
    my @miss = sort { $a <=> $b } map { $_->{$lat_rtt} } grep { !$_->{feasible} } rows($lat, placement => 'h100-pool');
    my @desk = rows($lat, placement => 'desktop-per-user');
    my @desk_meets = sort { $a <=> $b } map { $_->{$lat_rtt} } grep { $_->{feasible} } @desk;
    # Why the desktop misses: its own reason (a prefill slower than the target).
    my ($prefill) = map { /alone takes ([\d.]+) s/ ? $1 : () } map { $_->{reason} // '' } @desk;
    'the H100 pool meets it at ' . span_ms(@pool) . ' round trips'
        . (@miss ? ' (not at ' . join(', ', map { ms($_) } @miss) . ')' : '') . '; the desktop '
        . (@desk_meets ? 'at ' . span_ms(@desk_meets)
            : 'at none' . (defined $prefill ? ' (its prefill alone takes ' . num($prefill) . ' s at p99)' : ''));
}];
$rule{'claim-always-on-verdict'} = [['always-on-agent'], sub {
    my $f = col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_capex');
    $f > 1 ? '**Partly**: sharing still wins, by much less' : '**Holds**';
}];
$rule{'claim-always-on-figure'} = [['always-on-agent'], sub {
    my %seen;
    my @share = grep { !$seen{$_}++ } map { $_->{sweep_classes_0_share} } @{$answers{'always-on-agent'}};
    my @f = map { col($aoa->($_, 'h100-pool', $aoa_all->()), 'sharing_factor_capex') } @share;
    'capex factor ' . num(col($aoa->(1, 'h100-pool', $aoa_all->()), 'sharing_factor_capex')) . ' for agents alone (H100s), '
        . span(@f) . ' as chat users make up ' . pct(1 - (sort { $b <=> $a } @share)[0]) . '-' . pct(1 - (sort { $a <=> $b } @share)[0]) . ' of the users';
}];
$rule{'claim-available-verdict'} = [['always-available-assistant'], sub {
    my @meet = grep { $_->{availability_choice} } rows('always-available-assistant');
    (grep { $_->{placement} =~ /local-fallback|laptop-fallback|^desktop/ } @meet) ? '**Holds**, with a local device in the mix' : '**Does not hold**';
}];
$rule{'claim-available-figure'} = [['always-available-assistant'], sub {
    my @opt = ('desktop', 'cloud-1-region', 'cloud-2-regions', 'cloud-local-fallback', 'desktop-cloud-fallback', 'cloud-laptop-fallback');
    my @a = map { col($av->($_), 'availability_share') } @opt;
    'share of a year\'s requests within the service level: ' . pct3(col($av->('cloud-laptop-fallback'), 'availability_share'))
        . ' for one region with a laptop serving a smaller model as fallback, ' . pct3(col($av->('cloud-local-fallback'), 'availability_share'))
        . ' with the desktop as fallback, ' . pct3(col($av->('cloud-1-region'), 'availability_share'))
        . ' for the region alone (options: ' . join('-', map { pct3($_) } (sort { $a <=> $b } @a)[0, -1]) . ')';
}];
$rule{'claim-privacy-verdict'} = [['privacy'], sub {
    col($pv_mix->(), 'cost_of_privacy_usd_per_user_year') > 0 ? '**Holds**, at a price' : '**Holds**, at no cost';
}];
$rule{'claim-privacy-figure'} = [['privacy'], sub {
    'keeping the private class on its own desktops costs ' . $block->('privacy-cost')
        . ' per user-year more than pooling everyone, ' . $block->('privacy-saving')
        . ' less than a desktop for everyone; the private class\'s own desktops cost '
        . usd(col($pv->('desktop-private'), 'tco_marginal_usd_per_user_year')) . '-' . usd(col($pv->('desktop-private'), 'tco_usd_per_user_year'))
        . ' per user-year (beyond the PC they would own anyway, or whole)';
}];
$rule{'claim-falling-memory-verdict'} = [[$mb], sub {
    # Some pool sizes cross over at some memory price, the larger never do.
    my ($always, $never, $sizes) = $mb_sides->();
    @$always + @$never < @$sizes ? '**Only against the smallest pools**' : '**Does not hold**';
}];
$rule{'claim-falling-memory-figure'} = [[$mb], sub {
    'a desktop each beats a pool of 16 until memory costs ' . $block->('breakeven-span')
        . 'x today\'s; pools of ' . $block->('breakeven-always') . ' or more are cheaper at every memory price from 0 to 1000x';
}];
$rule{'claim-speech-verdict'} = [['small-models'], sub {
    col(one('small-models', placement => 'laptop-npu-speech'), 'feasible') ? '**Holds for latency, not for cost**' : '**Does not hold**';
}];
$rule{'claim-speech-figure'} = [['small-models'], sub {
    my $pool = $sm->('h100-speech-pool', $sm_all->());
    my $n = col($pool, 'devices_total');
    'a laptop NPU meets speech p99 <= 10 s (' . $block->('small-laptop-p99')
        . '), yet ' . h100s($n) . ($n == 1 ? ' serves ' : ' serve ') . $block->('small-speech-users')
        . ' speech users with ' . $block->('small-speech-factor-capex') . 'x less capital ('
        . num(col($sm->('h100-speech-pool', 10), 'sharing_factor_capex')) . 'x, i.e. dearer, in pools of 10)';
}];

# disaggregation: a colocated pool against a disaggregated one, by prompt length.
my $dg = sub { one('disaggregation', sweep_requests_input_tokens_median => $_[0], placement => $_[1]) };
$rule{'disagg-table'} = [['disaggregation'], sub {
    my %seen;
    my @medians = sort { $a <=> $b } grep { !$seen{$_}++ } map { $_->{sweep_requests_input_tokens_median} } @{$answers{disaggregation}};
    my @out = (
        '| prompt tokens (median / p99) | H100s colocated | H100s disaggregated (prefill + decode) | p99 TTFT colocated / disaggregated | p99 TPOT colocated / disaggregated | mean KV transfer |',
        '|---|---|---|---|---|---|',
    );
    for my $m (@medians) {
        my ($c, $d) = ($dg->($m, 'h100-colocated'), $dg->($m, 'h100-disaggregated'));
        push @out, sprintf('| %s / %s | %s | %s (%s + %s) | %s / %s s | %s / %s | %s |',
            whole($m), whole(col($c, 'sweep_requests_input_tokens_p99')),
            whole(col($c, 'servers_per_pool')), whole(col($d, 'servers_per_pool')),
            whole(col($d, 'prefill_servers')), whole(col($d, 'decode_servers')),
            num(col($c, 'ttft_p99_s')), num(col($d, 'ttft_p99_s')),
            ms(col($c, 'tpot_p99_s')), ms(col($d, 'tpot_p99_s')),
            sprintf('%.1f ms', col($d, 'kv_transfer_mean_s') * 1000));
    }
    return "\n" . join("\n", @out) . "\n";
}];
$rule{'disagg-long'} = [['disaggregation'], sub {
    my ($c, $d) = ($dg->(8000, 'h100-colocated'), $dg->(8000, 'h100-disaggregated'));
    sprintf('%s H100s instead of %s', whole(col($d, 'servers_per_pool')), whole(col($c, 'servers_per_pool')));
}];
$rule{'disagg-short'} = [['disaggregation'], sub {
    my ($c, $d) = ($dg->(1020, 'h100-colocated'), $dg->(1020, 'h100-disaggregated'));
    sprintf('%s H100s instead of %s', whole(col($d, 'servers_per_pool')), whole(col($c, 'servers_per_pool')));
}];

# ------------------------------------------------------------------ the README
open my $in, '<', $readme or die "readme-results: cannot read $readme: $!\n";
my $text = do { local $/; <$in> };
close $in;

my (%found, @unknown, @differ, %left);
(my $new = $text) =~ s{(<!-- results:([a-z0-9-]+) -->)(.*?)(<!-- /results:\2 -->)}{
    my ($open, $name, $old, $close) = ($1, $2, $3, $4);
    $found{$name}++;
    my $r = $rule{$name};
    my $now = $old;
    if (!$r) {
        push @unknown, $name;
    } elsif (my @missing = grep { !$answers{$_} } @{$r->[0]}) {
        $left{$_}{$name} = 1 for @missing;
    } else {
        $now = $r->[1]->();
        push @differ, [$name, $old, $now] if $now ne $old;
    }
    "$open$now$close";
}gse;

my @orphan = grep { !$found{$_} } sort keys %rule;
if (@unknown || @orphan) {
    print STDERR "readme-results: README block results:$_ has no rule in scripts/readme-results.pl\n" for @unknown;
    print STDERR "readme-results: rule $_ of scripts/readme-results.pl has no block in the README\n" for @orphan;
    exit 2;
}
for my $s (sort keys %left) {
    printf "readme-results: left alone (no run of %s here; the full regeneration writes them): %s\n",
        $s, join(', ', sort keys %{$left{$s}});
}
if ($check) {
    if (@differ) {
        for my $d (@differ) {
            print "readme-results: README block results:$d->[0] says \"$d->[1]\", the code gives \"$d->[2]\"\n";
        }
        print "readme-results: run bash scripts/regenerate-readme-results.sh and commit README.md\n";
        exit 1;
    }
    printf "readme-results: %d README blocks are what the code gives now\n",
        scalar(grep { my $n = $_; !grep { $left{$_}{$n} } keys %left } keys %found);
} else {
    if ($new ne $text) {
        open my $out, '>', $readme or die "readme-results: cannot write $readme: $!\n";
        print $out $new;
        close $out;
    }
    printf "readme-results: %d README blocks written (%d changed)\n", scalar(keys %found), scalar(@differ);
}
